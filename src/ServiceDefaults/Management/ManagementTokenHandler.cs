using System.Globalization;
using System.Security.Claims;
using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Voting.ServiceDefaults.Management;

/// <summary>
/// The management scheme: a request is the operator's when it carries <c>Authorization: Bearer &lt;Management:Token&gt;</c>,
/// or the cookie the sign-in form (<see cref="ManagementEndpoints"/>) set for a browser. Both are compared in constant
/// time, and only on the management port: the same header on a public port proves nothing.
/// </summary>
public sealed class ManagementTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    ManagementOptions management)
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    public const string SchemeName = "ManagementToken";
    private const string BearerPrefix = "Bearer ";

    /// <summary>
    /// The sign-in cookie's name. Browsers share cookies across the ports of one host, so each management port has its
    /// own: two processes on 127.0.0.1 do not overwrite each other's.
    /// </summary>
    public static string CookieName(int port) => "voting_management_" + port.ToString(CultureInfo.InvariantCulture);

    /// <summary>
    /// The sign-in cookie's value: an HMAC of the token, so the cookie is no copy of the token itself and is worth
    /// nothing once the token changes.
    /// </summary>
    public static string CookieValue(string token) =>
        Convert.ToBase64String(HMACSHA256.HashData(Encoding.UTF8.GetBytes(token), "Voting.Orleans management sign-in"u8))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    protected override Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        if (!management.Ports.Contains(Context.Connection.LocalPort))
        {
            return Task.FromResult(AuthenticateResult.NoResult());
        }

        var header = Request.Headers.Authorization.ToString();
        if (header.StartsWith(BearerPrefix, StringComparison.OrdinalIgnoreCase))
        {
            return Task.FromResult(management.IsToken(header[BearerPrefix.Length..].Trim())
                ? Success()
                : AuthenticateResult.Fail("The bearer token is not the management token."));
        }

        if (Request.Cookies.TryGetValue(CookieName(Context.Connection.LocalPort), out var cookie))
        {
            var expected = Encoding.ASCII.GetBytes(CookieValue(management.Token));
            return Task.FromResult(CryptographicOperations.FixedTimeEquals(expected, Encoding.ASCII.GetBytes(cookie))
                ? Success()
                : AuthenticateResult.Fail("The sign-in cookie is not valid for the current management token."));
        }

        return Task.FromResult(AuthenticateResult.NoResult());
    }

    /// <summary>401 with <c>WWW-Authenticate: Bearer</c>; a browser is also told where to sign in.</summary>
    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer realm=\"management\"";
        Response.Headers.CacheControl = "no-store";
        if (Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase))
        {
            Response.ContentType = "text/html; charset=utf-8";
            await Response.WriteAsync(
                "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Sign in</title>"
                + $"<p>This is a management surface: it needs the management token. <a href=\"{ManagementEndpoints.SignInPath}\">Sign in</a>.</p></html>");
        }
        else
        {
            await Response.WriteAsJsonAsync(new ManagementProblem(
                "https://tools.ietf.org/html/rfc9110#section-15.5.2", "Unauthorized", 401,
                "Management surfaces require 'Authorization: Bearer <token>' with the management token (setting Management:Token)."),
                options: null, contentType: "application/problem+json");
        }
    }

    private static AuthenticateResult Success() => AuthenticateResult.Success(new AuthenticationTicket(
        new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "operator")], SchemeName)), SchemeName));

    private sealed record ManagementProblem(string Type, string Title, int Status, string Detail);
}
