using Microsoft.AspNetCore.CookiePolicy;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Edge;
using Voting.ServiceDefaults.Management;

namespace Voting.Web.Frontend;

/// <summary>
/// A front end that requires HTTPS (<see cref="EdgeOptions.RequireHttps"/>, on outside Development): TLS ends at the
/// balancer, which tells the front end with <c>X-Forwarded-Proto: https</c> (believed from a trusted proxy only). A
/// request that did not come over HTTPS is answered <c>400</c> saying so — not with a vote page whose <c>Secure</c>
/// cookie a browser would drop without a word — and every cookie set is held to ASP.NET Core's cookie policy:
/// <c>Secure</c>, <c>HttpOnly</c>, <c>SameSite=Lax</c> at least. The health probes (the balancer's, Swarm's) and the
/// management port, which is plain HTTP on the operators' side and sets the management sign-in cookie, are exempt.
/// </summary>
public static class HttpsRequirement
{
    public static IHostApplicationBuilder AddVotingHttpsRequirement(this IHostApplicationBuilder builder)
    {
        builder.Services.Configure<CookiePolicyOptions>(policy =>
        {
            policy.Secure = CookieSecurePolicy.Always;
            policy.HttpOnly = HttpOnlyPolicy.Always;
            policy.MinimumSameSitePolicy = SameSiteMode.Lax;
        });
        return builder;
    }

    /// <summary>After the forwarded headers, which say whether the request came over HTTPS.</summary>
    public static WebApplication UseVotingHttpsRequirement(this WebApplication app)
    {
        // Read when the first request comes, after every setting was validated at start-up (all failures named at once).
        var required = new Lazy<bool>(() => app.Services.GetRequiredService<IOptions<EdgeOptions>>().Value.RequiresHttps(app.Environment));
        var management = app.Services.GetRequiredService<ManagementOptions>();
        app.UseWhen(context => required.Value && !management.Ports.Contains(context.Connection.LocalPort), voters =>
        {
            voters.UseCookiePolicy();
            voters.Use((context, next) => context.Request.IsHttps || context.GetEndpoint()?.Metadata.GetMetadata<AnyPortEndpointMetadata>() is not null
                ? next(context)
                : RefuseAsync(context));
        });
        return app;
    }

    private static Task RefuseAsync(HttpContext context)
    {
        const string Detail = "This front end takes requests over HTTPS only, through the load balancer: open the vote at its https:// address.";
        if (context.Request.Path.StartsWithSegments("/api", StringComparison.OrdinalIgnoreCase))
        {
            return TypedResults.Problem(Detail, statusCode: StatusCodes.Status400BadRequest, title: "HTTPS required").ExecuteAsync(context);
        }

        context.Response.StatusCode = StatusCodes.Status400BadRequest;
        context.Response.ContentType = "text/html; charset=utf-8";
        return context.Response.WriteAsync($"<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>HTTPS required</title><p>{Detail}</p></html>");
    }
}
