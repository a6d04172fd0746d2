using Microsoft.AspNetCore.OutputCaching;

namespace Voting.Results.Pipeline;

/// <summary>
/// Output caching for <c>/api/pipeline</c>. The framework's default policy caches no request that carries an
/// <c>Authorization</c> header, and every request to a management surface carries one; this policy caches them,
/// because the authorization middleware runs before the output cache: a cached answer is only ever served to a
/// request that was already let in. The answer is the same for every operator, so nothing varies by caller.
/// </summary>
internal sealed class PipelineCachePolicy : IOutputCachePolicy
{
    public const string Name = "pipeline";

    /// <summary>A fraction of the feed's refresh: the cache saves serialising the same snapshot again and again.</summary>
    public static readonly TimeSpan Duration = TimeSpan.FromMilliseconds(500);

    public ValueTask CacheRequestAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        var cacheable = HttpMethods.IsGet(context.HttpContext.Request.Method) || HttpMethods.IsHead(context.HttpContext.Request.Method);
        context.EnableOutputCaching = true;
        context.AllowCacheLookup = cacheable;
        context.AllowCacheStorage = cacheable;
        context.AllowLocking = true;
        context.ResponseExpirationTimeSpan = Duration;
        context.CacheVaryByRules.QueryKeys = "*";
        return ValueTask.CompletedTask;
    }

    public ValueTask ServeFromCacheAsync(OutputCacheContext context, CancellationToken cancellation) => ValueTask.CompletedTask;

    public ValueTask ServeResponseAsync(OutputCacheContext context, CancellationToken cancellation)
    {
        // Only whole answers are kept: a 503 (not read yet, cluster unreachable) is asked again.
        if (context.HttpContext.Response.StatusCode != StatusCodes.Status200OK)
        {
            context.AllowCacheStorage = false;
        }

        return ValueTask.CompletedTask;
    }
}
