using Microsoft.Extensions.Configuration;
using Voting.ServiceDefaults.Configuration;

namespace Voting.ServiceDefaults.Voting;

/// <summary>One choice on the ballot: its key on the wire (<c>a</c>, <c>b</c>, ...) and the label people see.</summary>
public sealed record BallotOption(string Key, string Label);

/// <summary>
/// The choices on the ballot, read as the original app read them: <c>OPTION_A</c> (default Cats), <c>OPTION_B</c>
/// (default Dogs), and optionally <c>OPTION_C</c> to <c>OPTION_Z</c>. Front ends and the results app must agree.
/// </summary>
public sealed class BallotOptions
{
    private const int MaxLabelLength = 100;

    private readonly BallotOption?[] _byLetter = new BallotOption?[26];

    private BallotOptions(IReadOnlyList<BallotOption> all)
    {
        All = all;
        foreach (var option in all)
        {
            _byLetter[option.Key[0] - 'a'] = option;
        }
    }

    public IReadOnlyList<BallotOption> All { get; }

    public bool TryGet(string? key, out BallotOption option)
    {
        option = null!;
        if (key is not { Length: 1 } || key[0] is < 'a' or > 'z' || _byLetter[key[0] - 'a'] is not { } found)
        {
            return false;
        }

        option = found;
        return true;
    }

    public string LabelOf(string key) => TryGet(key, out var option) ? option.Label : key;

    public static BallotOptions FromConfiguration(IConfiguration configuration)
    {
        var options = new List<BallotOption>();
        var failures = new List<string>();
        for (var letter = 'a'; letter <= 'z'; letter++)
        {
            var setting = $"OPTION_{char.ToUpperInvariant(letter)}";
            var label = configuration[setting] ?? letter switch
            {
                'a' => "Cats",
                'b' => "Dogs",
                _ => null,
            };
            if (label is null)
            {
                continue;
            }

            label = label.Trim();
            if (label.Length is 0 or > MaxLabelLength)
            {
                failures.Add(SettingsValidation.Invalid(setting, $"must be a label of 1 to {MaxLabelLength} characters."));
                continue;
            }

            options.Add(new BallotOption(letter.ToString(), label));
        }

        SettingsValidation.ThrowIfAny("OPTION_*", failures);
        return new BallotOptions(options);
    }
}
