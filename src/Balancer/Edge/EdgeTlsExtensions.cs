using Microsoft.AspNetCore.Server.Kestrel.Core;
using Voting.ServiceDefaults.Management;

namespace Voting.Balancer.Edge;

/// <summary>
/// TLS terminated at the balancer when <c>Edge:Tls</c> is configured (<see cref="EdgeTlsOptions"/>): Kestrel serves
/// HTTPS with the configured certificate; the plain-HTTP port answers every request with a <c>308</c> to HTTPS (a
/// redirected <c>POST</c> stays a <c>POST</c>, so a vote is not turned into a page load), except the health probes and
/// the management port; HTTPS answers carry <c>Strict-Transport-Security</c> outside Development. The front ends learn
/// the scheme from the <c>X-Forwarded-Proto: https</c> YARP sets on every request it passes on.
/// </summary>
public static class EdgeTlsExtensions
{
    public static IHostApplicationBuilder AddVotingEdgeTls(this IHostApplicationBuilder builder)
    {
        var tls = EdgeTlsOptions.FromConfiguration(builder.Configuration, TimeProvider.System);
        if (tls is null)
        {
            return builder;
        }

        // Kestrel reads 'urls' when it starts: the plain and management URLs already there, then the HTTPS ones.
        var urls = builder.Configuration[WebHostDefaults.ServerUrlsKey];
        builder.Configuration[WebHostDefaults.ServerUrlsKey] = string.Join(';', new[] { urls }.OfType<string>().Concat(tls.Urls));
        builder.Services.AddSingleton(tls);
        builder.Services.Configure<KestrelServerOptions>(kestrel => kestrel.ConfigureHttpsDefaults(https => https.ServerCertificate = tls.Certificate));
        builder.Services.AddHsts(hsts =>
        {
            hsts.MaxAge = tls.HstsMaxAge;
            // ASP.NET Core leaves out localhost, 127.0.0.1 and [::1]: HSTS holds for every port of a host, and a
            // browser told so by ./voting up --tls would refuse the plain-HTTP results app and front ends on loopback.
        });
        builder.Services.AddHttpsRedirection(redirect =>
        {
            redirect.HttpsPort = tls.PublicHttpsPort;
            redirect.RedirectStatusCode = StatusCodes.Status308PermanentRedirect;
        });
        return builder;
    }

    /// <summary>After the forwarded headers (a trusted hop in front may have terminated TLS already), before the proxy.</summary>
    public static WebApplication UseVotingEdgeTls(this WebApplication app)
    {
        if (app.Services.GetService<EdgeTlsOptions>() is null)
        {
            return app;
        }

        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }

        var management = app.Services.GetRequiredService<ManagementOptions>();
        app.UseWhen(
            context => !context.Request.IsHttps
                && !management.Ports.Contains(context.Connection.LocalPort)
                && context.GetEndpoint()?.Metadata.GetMetadata<AnyPortEndpointMetadata>() is null,
            plain => plain.UseHttpsRedirection());
        return app;
    }
}
