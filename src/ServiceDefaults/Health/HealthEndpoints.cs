using System.Text.Json;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Voting.ServiceDefaults.Management;

namespace Voting.ServiceDefaults.Health;

/// <summary>
/// <c>/health/live</c> (the process serves requests) and <c>/health/ready</c> (its dependencies answer), in every
/// environment and on every port, without credentials: the load balancer, Swarm and <c>./voting up</c> probe them.
/// They answer only the status; each check's name and description (which name internal addresses and errors) are
/// given on the management port, with the management token.
/// </summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    /// <summary>A dependency that does not answer within this time is reported unhealthy, not waited for.</summary>
    public static readonly TimeSpan CheckTimeout = TimeSpan.FromSeconds(3);

    private static readonly JsonWriterOptions WriterOptions = new() { Indented = true };

    public static IEndpointRouteBuilder MapVotingHealthEndpoints(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteAsync })
            .WithMetadata(AnyPortEndpointMetadata.Instance);
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(ReadyTag), ResponseWriter = WriteAsync })
            .WithMetadata(AnyPortEndpointMetadata.Instance);
        return endpoints;
    }

    private static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        await using var writer = new Utf8JsonWriter(context.Response.Body, WriterOptions);
        writer.WriteStartObject();
        writer.WriteString("status", report.Status.ToString());
        if (!await ShowsDetailsAsync(context))
        {
            writer.WriteEndObject();
            await writer.FlushAsync();
            return;
        }

        writer.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            writer.WriteStartObject(name);
            writer.WriteString("status", entry.Status.ToString());
            if (entry.Description is not null)
            {
                writer.WriteString("description", entry.Description);
            }

            writer.WriteNumber("durationMs", Math.Round(entry.Duration.TotalMilliseconds, 1));
            writer.WriteEndObject();
        }

        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync();
    }

    /// <summary>The details go to the operator only: on the management port, with the management token.</summary>
    private static async Task<bool> ShowsDetailsAsync(HttpContext context) =>
        context.RequestServices.GetService<ManagementOptions>() is { } management
        && management.Ports.Contains(context.Connection.LocalPort)
        && (await context.AuthenticateAsync(ManagementTokenHandler.SchemeName)).Succeeded;
}
