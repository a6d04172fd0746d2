using Microsoft.Extensions.Options;

namespace Voting.Clustering.Consul;

/// <summary>
/// Where the Orleans membership table lives in Consul's key/value store and how to reach it. Validation messages name
/// each setting as a key of section <see cref="SectionName"/> and as its environment variable, so bind the options
/// from that section.
/// </summary>
public sealed class ConsulClusteringOptions
{
    public const string SectionName = "Clustering:Consul";

    /// <summary>The Consul agent's HTTP API, e.g. <c>http://127.0.0.1:8500</c>.</summary>
    public string Address { get; set; } = "";

    /// <summary>
    /// The folder every cluster's keys live under: empty, or a path ending in <c>/</c> such as <c>orleans/</c>.
    /// A cluster's keys are <c>{KvRoot}{ClusterId}/...</c>.
    /// </summary>
    public string KvRoot { get; set; } = "orleans/";

    /// <summary>The ACL token sent in the <c>X-Consul-Token</c> header; empty when Consul runs without ACLs. Never logged.</summary>
    public string? Token { get; set; }

    /// <summary>
    /// A file holding the ACL token instead (a Swarm secret, a Consul agent's token sink), read again whenever it
    /// changes: a rotated token is taken without a restart. Not together with <see cref="Token"/>.
    /// </summary>
    public string? TokenFile { get; set; }

    /// <summary>How long one HTTP request to Consul may take before it counts as failed.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How many times a failed request is tried again. Reads and idempotent writes are retried after timeouts, transport
    /// errors and 5xx answers; a conditional write only when the connection was refused, so it never ran.
    /// </summary>
    public int RetryCount { get; set; } = 3;

    /// <summary>The pause before the first retry; it doubles with every further retry.</summary>
    public TimeSpan RetryBackoff { get; set; } = TimeSpan.FromMilliseconds(200);
}

/// <summary>Start-up validation of <see cref="ConsulClusteringOptions"/>, naming each setting by its configuration key.</summary>
public sealed class ConsulClusteringOptionsValidator : IValidateOptions<ConsulClusteringOptions>
{
    private static readonly TimeSpan MaxRequestTimeout = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan MaxRetryBackoff = TimeSpan.FromMinutes(1);
    private const int MaxRetryCount = 10;

    public ValidateOptionsResult Validate(string? name, ConsulClusteringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = Failures(options);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws with every problem at once, for code that gets the options without the options pipeline.</summary>
    internal static void ThrowIfInvalid(ConsulClusteringOptions options)
    {
        var failures = Failures(options);
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(ConsulClusteringOptions.SectionName, typeof(ConsulClusteringOptions), failures);
        }
    }

    /// <summary>Every problem with <paramref name="options"/>, one message per setting; empty when they can be used.</summary>
    public static IReadOnlyList<string> Failures(ConsulClusteringOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new List<string>();

        if (string.IsNullOrWhiteSpace(options.Address))
        {
            failures.Add(Missing(nameof(options.Address), "For example http://127.0.0.1:8500."));
        }
        else if (!Uri.TryCreate(options.Address, UriKind.Absolute, out var address)
            || (address.Scheme != Uri.UriSchemeHttp && address.Scheme != Uri.UriSchemeHttps)
            || !string.IsNullOrEmpty(address.Query)
            || !string.IsNullOrEmpty(address.UserInfo))
        {
            failures.Add(Invalid(nameof(options.Address),
                $"must be an http:// or https:// address without query or credentials, such as http://127.0.0.1:8500, not '{options.Address}'."));
        }

        if (ConsulKeys.KvRootProblem(options.KvRoot) is { } rootProblem)
        {
            failures.Add(Invalid(nameof(options.KvRoot), rootProblem));
        }

        if (options.Token is { Length: > 0 } token && !IsSendable(token))
        {
            // The value itself is a secret: the message describes it without showing it.
            failures.Add(Invalid(nameof(options.Token), "contains spaces or characters that cannot be sent in an HTTP header."));
        }

        if (!string.IsNullOrEmpty(options.TokenFile))
        {
            if (!string.IsNullOrEmpty(options.Token))
            {
                failures.Add(Invalid(nameof(options.TokenFile), $"and {Key(nameof(options.Token))} are both set: give the token one way."));
            }
            else if (ConsulToken.Read(options.TokenFile, out var problem) is null)
            {
                failures.Add(Invalid(nameof(options.TokenFile), problem!));
            }
        }

        if (options.RequestTimeout <= TimeSpan.Zero || options.RequestTimeout > MaxRequestTimeout)
        {
            failures.Add(Invalid(nameof(options.RequestTimeout),
                $"must be more than zero and at most {MaxRequestTimeout}, not {options.RequestTimeout}."));
        }

        if (options.RetryCount is < 0 or > MaxRetryCount)
        {
            failures.Add(Invalid(nameof(options.RetryCount),
                $"must be between 0 and {MaxRetryCount}, not {options.RetryCount}."));
        }

        if (options.RetryBackoff < TimeSpan.Zero || options.RetryBackoff > MaxRetryBackoff)
        {
            failures.Add(Invalid(nameof(options.RetryBackoff),
                $"must be between zero and {MaxRetryBackoff}, not {options.RetryBackoff}."));
        }

        return failures;
    }

    /// <summary>Whether <paramref name="token"/> can travel in an HTTP header as it is.</summary>
    internal static bool IsSendable(string token) => !token.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c > '~');

    private static string Missing(string setting, string hint) =>
        $"Setting '{Key(setting)}' is required (environment variable {EnvironmentVariable(setting)}). {hint}";

    private static string Invalid(string setting, string problem) =>
        $"Setting '{Key(setting)}' (environment variable {EnvironmentVariable(setting)}) {problem}";

    private static string Key(string setting) => $"{ConsulClusteringOptions.SectionName}:{setting}";

    private static string EnvironmentVariable(string setting) => Key(setting).Replace(":", "__", StringComparison.Ordinal);
}
