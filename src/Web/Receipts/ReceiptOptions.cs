using Microsoft.Extensions.Options;
using Voting.Sealing;
using Voting.Sealing.Ballots;
using Voting.ServiceDefaults.Configuration;

namespace Voting.Web.Receipts;

/// <summary>
/// What a front end needs to hand out receipt codes (section <c>Poll</c>): the poll's pseudonym key, the workers' secret
/// (<c>Poll:PseudonymKey</c>, base64, at least 32 bytes), and where voters check their receipts
/// (<c>Poll:ResultsUrl</c>, the results app's public address). Without the key, a vote's answer carries its vote id
/// alone; a key that is set but unusable stops the front end at start-up.
/// </summary>
public sealed class ReceiptOptions
{
    public const string SectionName = "Poll";

    public string? PseudonymKey { get; set; }

    /// <summary>The results app's public URL (e.g. <c>https://results.example.com/</c>): the page links to its <c>/receipt</c> page.</summary>
    public string? ResultsUrl { get; set; }

    public bool Configured => !string.IsNullOrWhiteSpace(PseudonymKey);

    /// <summary>The key, or null when none is configured; throws naming the setting when it is unusable.</summary>
    public PseudonymKey? Key() => Configured ? Sealing.Ballots.PseudonymKey.FromBase64(PseudonymKey, "Poll:PseudonymKey") : null;

    /// <summary>The results app's receipt page, or null when <see cref="ResultsUrl"/> is not set.</summary>
    public Uri? ReceiptPage() => ResultsPage(ResultsUrl) is { } results ? new Uri(results, "receipt") : null;

    private static Uri? ResultsPage(string? url) =>
        Uri.TryCreate(url, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps)
            ? (uri.AbsolutePath.EndsWith('/') ? uri : new UriBuilder(uri) { Path = uri.AbsolutePath + "/" }.Uri)
            : null;

    internal sealed class Validation : IValidateOptions<ReceiptOptions>
    {
        public ValidateOptionsResult Validate(string? name, ReceiptOptions options)
        {
            var failures = new List<string>();
            try
            {
                _ = options.Key();
            }
            catch (SealingSettingException e)
            {
                failures.Add($"Setting 'Poll:PseudonymKey' (environment variable {SettingsValidation.EnvironmentVariable("Poll:PseudonymKey")}): {e.Message} "
                    + "Give the front ends the workers' pseudonym key, or leave it out: votes then get no receipt code.");
            }

            if (!string.IsNullOrWhiteSpace(options.ResultsUrl) && ResultsPage(options.ResultsUrl) is null)
            {
                failures.Add(SettingsValidation.Invalid("Poll:ResultsUrl", "must be an absolute http:// or https:// URL: the results app's public address, e.g. https://results.example.com/."));
            }

            return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
        }
    }
}
