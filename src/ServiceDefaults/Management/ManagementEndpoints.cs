using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Voting.ServiceDefaults.Management;

/// <summary>
/// The management port every host opens besides its public URLs (<c>Management:Urls</c>), the token it requires
/// (<c>Management:Token</c>), and the browser sign-in form for the dashboard.
/// </summary>
public static class ManagementEndpoints
{
    public const string PolicyName = "Management";
    public const string SignInPath = "/management/sign-in";

    /// <summary>
    /// Reads and validates the management settings, makes Kestrel listen on the management URLs as well as the public
    /// ones, and registers the port routing and the token scheme.
    /// </summary>
    public static IHostApplicationBuilder AddVotingManagement(this IHostApplicationBuilder builder)
    {
        var management = ManagementOptions.FromConfiguration(builder.Configuration);
        // Kestrel reads 'urls' when it starts: the public URLs (Urls, ASPNETCORE_URLS) and then the management ones.
        var publicUrls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        builder.Configuration[WebHostDefaults.ServerUrlsKey] = string.Join(';', new[] { publicUrls }.OfType<string>().Concat(management.Urls));

        builder.Services.AddSingleton(management);
        builder.Services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ManagementPortPolicy>());
        builder.Services.AddAuthentication().AddScheme<AuthenticationSchemeOptions, ManagementTokenHandler>(ManagementTokenHandler.SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy(PolicyName, policy => policy
            .AddAuthenticationSchemes(ManagementTokenHandler.SchemeName)
            .RequireAuthenticatedUser());
        return builder;
    }

    /// <summary>Makes the endpoints management surfaces: on the management port only, with the management token.</summary>
    public static TBuilder RequireManagement<TBuilder>(this TBuilder builder)
        where TBuilder : IEndpointConventionBuilder =>
        builder.WithMetadata(ManagementEndpointMetadata.Instance).RequireAuthorization(PolicyName);

    /// <summary>
    /// <c>GET /management/sign-in</c>: a form for the token; <c>POST</c> sets an HttpOnly cookie for this management
    /// port, so that a browser can open the dashboard (it cannot send a bearer header by itself). On the management
    /// port only; a wrong token is answered 401 and sets nothing.
    /// </summary>
    public static IEndpointRouteBuilder MapManagementSignIn(this IEndpointRouteBuilder endpoints)
    {
        var signIn = endpoints.MapGroup(SignInPath).WithMetadata(ManagementEndpointMetadata.Instance);
        signIn.MapGet("", (HttpContext context) => Form(context, null));
        signIn.MapPost("", async (HttpContext context, ManagementOptions management) =>
        {
            if (!context.Request.HasFormContentType)
            {
                return Results.Problem(detail: "Send the token as a form field 'token' (application/x-www-form-urlencoded).", statusCode: StatusCodes.Status415UnsupportedMediaType);
            }

            var form = await context.Request.ReadFormAsync(context.RequestAborted);
            if (!management.IsToken(form["token"].ToString().Trim()))
            {
                return Form(context, "That is not the management token.");
            }

            context.Response.Cookies.Append(ManagementTokenHandler.CookieName(context.Connection.LocalPort), ManagementTokenHandler.CookieValue(management.Token), new CookieOptions
            {
                HttpOnly = true,
                SameSite = SameSiteMode.Strict,
                Secure = context.Request.IsHttps,
                Path = "/",
            });
            var returnTo = form["returnTo"].ToString();
            return Results.Redirect(returnTo.StartsWith('/') && !returnTo.StartsWith("//", StringComparison.Ordinal) && !returnTo.StartsWith("/\\", StringComparison.Ordinal) ? returnTo : "/");
        }).DisableAntiforgery();
        return endpoints;
    }

    private static IResult Form(HttpContext context, string? problem)
    {
        context.Response.Headers.CacheControl = "no-store";
        context.Response.Headers.ContentSecurityPolicy = "default-src 'none'; form-action 'self'; frame-ancestors 'none'";
        var message = problem is null ? "" : $"<p role=\"alert\">{problem}</p>";
        return Results.Content(
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Management sign-in</title>"
            + $"<h1>Management sign-in</h1>{message}<form method=\"post\"><label>Management token <input type=\"password\" name=\"token\" autocomplete=\"off\" required></label>"
            + "<input type=\"hidden\" name=\"returnTo\" value=\"/\"><button>Sign in</button></form></html>",
            "text/html; charset=utf-8",
            statusCode: problem is null ? StatusCodes.Status200OK : StatusCodes.Status401Unauthorized);
    }
}
