namespace Voting.Grains.Draining;

/// <summary>
/// How this silo's drainers sign in to the front ends' Redis servers (section <c>Drainers</c>). The registry keeps each
/// front end's Redis endpoint only; the credentials come from each worker silo's own settings, so that they are never
/// in grain state, a log line or an API answer.
/// </summary>
public sealed class DrainerRedisOptions
{
    public const string SectionName = "Drainers";

    /// <summary>The ACL user (one that may read, acknowledge and trim vote streams); none: Redis's <c>default</c> user.</summary>
    public string? RedisUser { get; set; }

    /// <summary><see cref="RedisUser"/>'s password.</summary>
    public string? RedisPassword { get; set; }
}
