using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Voting.ServiceDefaults.Management;

namespace Voting.ServiceDefaults.Edge;

/// <summary>
/// TLS terminated at the public edge when <c>Edge:Tls</c> is configured (<see cref="EdgeTlsOptions"/>): the balancer,
/// and the results app, which the public reaches directly. Kestrel serves HTTPS with the configured certificate; the
/// plain-HTTP port answers every request with a <c>308</c> to HTTPS (a redirected <c>POST</c> stays a <c>POST</c>, so
/// a vote is not turned into a page load), except the health probes and the management port; HTTPS answers carry
/// <c>Strict-Transport-Security</c> outside Development. The front ends behind the balancer learn the scheme from the
/// <c>X-Forwarded-Proto: https</c> YARP sets on every request it passes on.
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
            // browser told so by ./voting up --tls would refuse the plain-HTTP front ends and worker ports on loopback.
        });
        builder.Services.AddHttpsRedirection(redirect =>
        {
            redirect.HttpsPort = tls.PublicHttpsPort;
            redirect.RedirectStatusCode = StatusCodes.Status308PermanentRedirect;
        });
        return builder;
    }

    /// <summary>After the forwarded headers (a trusted hop in front may have terminated TLS already), before the endpoints.</summary>
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
            context => !context.Request.IsHttps && !management.IsOutsideTheEdge(context),
            plain => plain.UseHttpsRedirection());
        return app;
    }
}
