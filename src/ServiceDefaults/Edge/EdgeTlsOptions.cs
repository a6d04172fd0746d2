using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Voting.ServiceDefaults.Configuration;

namespace Voting.ServiceDefaults.Edge;

/// <summary>
/// TLS at the public edge, the balancer or the results app (section <c>Edge:Tls</c>): the HTTPS URLs it listens on
/// besides its plain <c>Urls</c>, and the certificate and private key as PEM files (Swarm secrets under
/// <c>/run/secrets</c> in a stack). Read while the host is built, because Kestrel must listen on those URLs: a
/// certificate that is missing, unreadable, does not match its key or is not valid now stops the process before it
/// serves anything, naming the setting.
/// </summary>
public sealed class EdgeTlsOptions
{
    public const string SectionName = "Edge:Tls";
    public const string UrlsKey = SectionName + ":Urls";
    public const string CertificatePathKey = SectionName + ":CertificatePath";
    public const string KeyPathKey = SectionName + ":KeyPath";
    public const string PublicHttpsPortKey = SectionName + ":PublicHttpsPort";
    public const string HstsMaxAgeKey = SectionName + ":HstsMaxAge";

    /// <summary>The HTTPS URLs, e.g. <c>https://127.0.0.1:8443</c> (<c>https://+:8443</c> in a container).</summary>
    public required IReadOnlyList<string> Urls { get; init; }

    /// <summary>The certificate, with its private key.</summary>
    public required X509Certificate2 Certificate { get; init; }

    /// <summary>
    /// The port plain-HTTP requests are redirected to: the HTTPS port clients reach, which in a stack is the published
    /// one (443), not the container's. Defaults to the port of the first of <see cref="Urls"/>.
    /// </summary>
    public required int PublicHttpsPort { get; init; }

    /// <summary>The <c>Strict-Transport-Security</c> max-age (180 days unless set).</summary>
    public required TimeSpan HstsMaxAge { get; init; }

    /// <summary>
    /// Reads and validates the section: null when TLS is not configured (none of its settings given); throws naming
    /// every setting that is missing or unusable when it is.
    /// </summary>
    public static EdgeTlsOptions? FromConfiguration(IConfiguration configuration, TimeProvider time)
    {
        var urls = (configuration[UrlsKey] ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var certificatePath = configuration[CertificatePathKey];
        var keyPath = configuration[KeyPathKey];
        if (urls.Length == 0 && string.IsNullOrWhiteSpace(certificatePath) && string.IsNullOrWhiteSpace(keyPath))
        {
            return null;
        }

        var failures = new List<string>();
        var ports = new List<int>();
        if (urls.Length == 0)
        {
            failures.Add(SettingsValidation.Missing(UrlsKey, "Where HTTPS is served, e.g. https://127.0.0.1:8443 (https://+:8443 in a container)."));
        }

        foreach (var url in urls)
        {
            if (HttpsPort(url) is { } port)
            {
                ports.Add(port);
            }
            else
            {
                failures.Add(SettingsValidation.Invalid(UrlsKey, $"must be https:// URLs with an explicit port other than 0, such as https://127.0.0.1:8443; '{url}' is not."));
            }
        }

        var publicPort = ports.FirstOrDefault();
        if (configuration[PublicHttpsPortKey] is { Length: > 0 } configuredPort)
        {
            if (int.TryParse(configuredPort, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is >= 1 and <= 65535)
            {
                publicPort = port;
            }
            else
            {
                failures.Add(SettingsValidation.Invalid(PublicHttpsPortKey, "must be a port number (1-65535): the HTTPS port clients reach, where plain HTTP is redirected."));
            }
        }

        var hstsMaxAge = TimeSpan.FromDays(180);
        if (configuration[HstsMaxAgeKey] is { Length: > 0 } configuredMaxAge)
        {
            if (TimeSpan.TryParse(configuredMaxAge, System.Globalization.CultureInfo.InvariantCulture, out var maxAge) && maxAge >= TimeSpan.FromMinutes(5))
            {
                hstsMaxAge = maxAge;
            }
            else
            {
                failures.Add(SettingsValidation.Invalid(HstsMaxAgeKey, "must be a duration of at least 5 minutes, e.g. 180.00:00:00."));
            }
        }

        var certificate = LoadCertificate(certificatePath, keyPath, time, failures);
        SettingsValidation.ThrowIfAny(SectionName, failures);
        return new EdgeTlsOptions { Urls = urls, Certificate = certificate!, PublicHttpsPort = publicPort, HstsMaxAge = hstsMaxAge };
    }

    private static X509Certificate2? LoadCertificate(string? certificatePath, string? keyPath, TimeProvider time, List<string> failures)
    {
        var usable = Readable(CertificatePathKey, certificatePath, "The certificate (and any intermediates after it) as PEM, e.g. /run/secrets/voting_edge_tls_cert.", failures)
            & Readable(KeyPathKey, keyPath, "The certificate's private key as PEM, e.g. /run/secrets/voting_edge_tls_key.", failures);
        if (!usable)
        {
            return null;
        }

        X509Certificate2 certificate;
        try
        {
            certificate = X509Certificate2.CreateFromPemFile(certificatePath!, keyPath);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            // No certificate or key in the files, or a key that is not the certificate's (an ArgumentException). The
            // exception's text can quote the files: say what is wrong in our words.
            failures.Add(SettingsValidation.Invalid(CertificatePathKey,
                $"and {KeyPathKey} must be a PEM certificate and the PEM private key that belongs to it: they cannot be read as such, or the key is not the certificate's."));
            return null;
        }

        var now = time.GetUtcNow().UtcDateTime;
        if (certificate.NotAfter.ToUniversalTime() < now)
        {
            failures.Add(SettingsValidation.Invalid(CertificatePathKey, $"names a certificate that expired on {certificate.NotAfter.ToUniversalTime():u}: renew it."));
        }
        else if (certificate.NotBefore.ToUniversalTime() > now)
        {
            failures.Add(SettingsValidation.Invalid(CertificatePathKey, $"names a certificate that is not valid before {certificate.NotBefore.ToUniversalTime():u}."));
        }

        return certificate;
    }

    private static bool Readable(string key, string? path, string hint, List<string> failures)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            failures.Add(SettingsValidation.Missing(key, hint));
            return false;
        }

        try
        {
            using var _ = File.OpenRead(path);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failures.Add(SettingsValidation.Invalid(key, File.Exists(path)
                ? $"names '{path}', which this process cannot read."
                : $"names '{path}', which does not exist."));
            return false;
        }
    }

    private static int? HttpsPort(string url)
    {
        try
        {
            var address = BindingAddress.Parse(url);
            return address.Scheme == "https" && address.Port > 0 && !address.IsUnixPipe ? address.Port : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
