using Microsoft.Extensions.Options;

namespace Voting.ServiceDefaults.Configuration;

/// <summary>Start-up validation whose messages name the setting, as a configuration key and as an environment variable.</summary>
public static class SettingsValidation
{
    /// <summary>The message for a setting that is missing or empty.</summary>
    public static string Missing(string key, string? hint = null) =>
        $"Setting '{key}' is required (environment variable {EnvironmentVariable(key)})." + (hint is null ? "" : " " + hint);

    /// <summary>The message for a setting whose value cannot be used.</summary>
    public static string Invalid(string key, string problem) =>
        $"Setting '{key}' (environment variable {EnvironmentVariable(key)}) {problem}";

    public static string EnvironmentVariable(string key) => key.Replace(":", "__", StringComparison.Ordinal);

    /// <summary>Throws at once with every failure, for settings read while the host is being built.</summary>
    public static void ThrowIfAny(string section, IReadOnlyCollection<string> failures)
    {
        if (failures.Count > 0)
        {
            throw new OptionsValidationException(section, typeof(object), failures);
        }
    }
}
