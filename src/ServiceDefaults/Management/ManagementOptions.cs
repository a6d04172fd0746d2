using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Voting.ServiceDefaults.Configuration;

namespace Voting.ServiceDefaults.Management;

/// <summary>
/// Where the management surfaces answer and the token they require (section <c>Management</c>). Read while the host
/// is built, because Kestrel must listen on the management URLs too: a missing or unusable setting stops the process
/// before it serves anything.
/// </summary>
public sealed class ManagementOptions
{
    public const string SectionName = "Management";
    public const string UrlsKey = SectionName + ":Urls";
    public const string TokenKey = SectionName + ":Token";

    /// <summary>The shortest token accepted: 32 characters, e.g. 24 random bytes in base64.</summary>
    public const int MinimumTokenLength = 32;

    /// <summary>The management URLs, each with an explicit port (<c>http://127.0.0.1:9070</c>; <c>http://+:9090</c> in a container).</summary>
    public required IReadOnlyList<string> Urls { get; init; }

    /// <summary>The ports of <see cref="Urls"/>: a request that arrived on another port never reaches a management surface.</summary>
    public required IReadOnlySet<int> Ports { get; init; }

    /// <summary>The bearer token (a secret: <c>SecretsDirectory/Management__Token</c> in a stack). Never logged.</summary>
    public required string Token { get; init; }

    /// <summary>
    /// Whether a request is outside the public edge's rules (the HTTPS redirect, the limits per client address): it
    /// came to a management port, or it is a health probe, which answers on every port (<see cref="AnyPortEndpointMetadata"/>).
    /// </summary>
    public bool IsOutsideTheEdge(HttpContext context) =>
        Ports.Contains(context.Connection.LocalPort)
        || context.GetEndpoint()?.Metadata.GetMetadata<AnyPortEndpointMetadata>() is not null;

    private byte[] TokenHash => field ??= SHA256.HashData(Encoding.UTF8.GetBytes(Token));

    /// <summary>Whether <paramref name="presented"/> is the token, in a time that does not depend on how much of it matches.</summary>
    public bool IsToken(string presented) =>
        CryptographicOperations.FixedTimeEquals(TokenHash, SHA256.HashData(Encoding.UTF8.GetBytes(presented)));

    /// <summary>Reads and validates the section; throws naming every setting that is missing or unusable.</summary>
    public static ManagementOptions FromConfiguration(IConfiguration configuration)
    {
        var failures = new List<string>();
        var urls = (configuration[UrlsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ports = new HashSet<int>();
        if (urls.Length == 0)
        {
            failures.Add(SettingsValidation.Missing(UrlsKey, "The management surfaces (dashboard, metrics, health details, operator APIs) answer only there, e.g. http://127.0.0.1:9070."));
        }

        foreach (var url in urls)
        {
            if (Port(url) is { } port)
            {
                ports.Add(port);
            }
            else
            {
                failures.Add(SettingsValidation.Invalid(UrlsKey, $"must be http:// URLs with an explicit port other than 0, such as http://127.0.0.1:9070; '{url}' is not."));
            }
        }

        var publicUrls = (configuration["urls"] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (publicUrls.Length == 0)
        {
            // Kestrel's default would be dropped once the management URLs are added: say where the public answers.
            failures.Add(SettingsValidation.Missing("Urls", "Where the public answers, e.g. http://127.0.0.1:8080."));
        }

        var publicPorts = publicUrls.Select(Port).OfType<int>().ToHashSet();
        if (ports.Overlaps(publicPorts))
        {
            failures.Add(SettingsValidation.Invalid(UrlsKey, "must name a port of its own: it shares one with Urls, where the public answers."));
        }

        var token = configuration[TokenKey];
        if (string.IsNullOrWhiteSpace(token))
        {
            failures.Add(SettingsValidation.Missing(TokenKey, "Every management surface requires it as 'Authorization: Bearer <token>'; keep it in a secret file."));
        }
        else if (token.Trim().Length < MinimumTokenLength)
        {
            failures.Add(SettingsValidation.Invalid(TokenKey, $"must be at least {MinimumTokenLength} characters long."));
        }

        SettingsValidation.ThrowIfAny(SectionName, failures);
        return new ManagementOptions { Urls = urls, Ports = ports, Token = token!.Trim() };
    }

    private static int? Port(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            return address.Scheme == "http" && address.Port > 0 && !address.IsUnixPipe ? address.Port : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
