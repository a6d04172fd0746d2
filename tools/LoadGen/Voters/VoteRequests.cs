using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Serialization;

namespace Voting.LoadGen.Voters;

/// <summary>An option as <c>GET /api/options</c> lists it.</summary>
public sealed record BallotOption(string Key, string Label);

/// <summary>The requests a simulated voter sends: for each option on the ballot, the request bodies and the answer that confirms a vote for it, made once.</summary>
internal sealed class VoteRequests
{
    private VoteRequests(IReadOnlyList<BallotOption> options)
    {
        Options = options;
        Keys = [.. options.Select(o => o.Key)];
        JsonBodies = [.. Keys.Select(k => Encoding.UTF8.GetBytes($$"""{"option":"{{k}}"}"""))];
        FormBodies = [.. Keys.Select(k => Encoding.UTF8.GetBytes("vote=" + Uri.EscapeDataString(k)))];
        ChosenMarkers = [.. Keys.Select(k => Encoding.UTF8.GetBytes($"id=\"option-{k}\" class=\"chosen\""))];
        KeyBytes = [.. Keys.Select(Encoding.UTF8.GetBytes)];
    }

    public IReadOnlyList<BallotOption> Options { get; }

    public IReadOnlyList<string> Keys { get; }

    public int Count => Keys.Count;

    /// <summary><c>{"option":"a"}</c> per option.</summary>
    public byte[][] JsonBodies { get; }

    /// <summary><c>vote=a</c> per option.</summary>
    public byte[][] FormBodies { get; }

    /// <summary>What the vote page shows on the button of the option just recorded.</summary>
    public byte[][] ChosenMarkers { get; }

    /// <summary>The option keys in UTF-8, to check receipts without decoding them.</summary>
    public byte[][] KeyBytes { get; }

    /// <summary>How long the options are asked for before the run gives up: a system still settling (a front end
    /// restarting, the balancer not yet routing to it) answers within it.</summary>
    public static readonly TimeSpan FetchPatience = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Asks the front ends, in turn, for the ballot's options, round after round while they refuse or cannot be reached,
    /// for at most <see cref="FetchPatience"/>.
    /// </summary>
    public static async Task<VoteRequests> FetchAsync(HttpClient http, IReadOnlyList<Uri> frontends, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + FetchPatience;
        while (true)
        {
            var failures = new List<string>();
            foreach (var frontend in frontends)
            {
                try
                {
                    var options = await http.GetFromJsonAsync(new Uri(LoadOptions.Directory(frontend), "api/options"), OptionsJsonContext.Default.BallotOptionArray, cancellationToken);
                    if (options is { Length: > 0 and <= 32 } && options.All(o => o.Key is { Length: > 0 }))
                    {
                        return new VoteRequests(options);
                    }

                    // A front end that answers with no usable ballot will not answer differently a second later.
                    throw new LoadRunException($"The ballot's options from {frontend} (GET /api/options) are not usable: none, more than 32, or one without a key.");
                }
                catch (Exception e) when (e is HttpRequestException or System.Text.Json.JsonException or TaskCanceledException
                    && !cancellationToken.IsCancellationRequested)
                {
                    failures.Add($"{frontend}: {e.Message}");
                }
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new LoadRunException($"The ballot's options could not be read from any front end within {FetchPatience.TotalSeconds:F0} s (GET /api/options): " + string.Join("; ", failures));
            }

            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }
}

[JsonSourceGenerationOptions(System.Text.Json.JsonSerializerDefaults.Web)]
[JsonSerializable(typeof(BallotOption[]))]
internal sealed partial class OptionsJsonContext : JsonSerializerContext;
