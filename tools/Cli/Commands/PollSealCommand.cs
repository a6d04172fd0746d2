using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Voting.Sealing.Export;

namespace Voting.Cli.Commands;

/// <summary>
/// <c>./voting poll seal --out DIR</c>: asks a worker silo to seal the closed poll (<c>POST /api/poll/seal</c>) until it
/// has — it waits while the close's grace runs and until every front end's stream is drained, as the worker verifies —
/// then writes the export (manifest.json, ballots.csv, public-key.pem) into DIR and verifies it as anyone would
/// (<c>./voting verify DIR</c>).
/// </summary>
internal static class PollSealCommand
{
    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--out") { Description = "the directory to write the export into (made if missing)", Required = true };
        var timeout = new Option<TimeSpan>("--timeout")
        {
            Description = "how long to wait for the drain before giving up",
            DefaultValueFactory = _ => TimeSpan.FromMinutes(10),
        };
        var command = new Command("seal", "seal the closed poll once every vote is counted, and write its export (manifest, ballots, public key) into --out")
        {
            output,
            timeout,
        };
        command.SetAction((parse, cancellationToken) => RunAsync(parse.GetValue(output)!, parse.GetValue(timeout), parse.GetValue(PollTarget.SwarmOption), cancellationToken));
        return command;
    }

    private static async Task<int> RunAsync(DirectoryInfo output, TimeSpan timeout, bool swarm, CancellationToken cancellationToken)
    {
        var target = await PollTarget.ResolveAsync(swarm);
        var (worker, management) = (target.Name, target.Management);
        // Sealing ten million ballots takes a while: the request may too.
        using var http = target.Client(TimeSpan.FromMinutes(15));

        var deadline = DateTimeOffset.UtcNow + timeout;
        string? said = null;
        while (true)
        {
            using var response = await SendAsync(http, HttpMethod.Post, new Uri(management, "api/poll/seal"), worker, cancellationToken);
            if (response.IsSuccessStatusCode)
            {
                break;
            }

            var detail = await DetailAsync(response, cancellationToken);
            if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
            {
                await Console.Error.WriteLineAsync("voting: the poll was not sealed: " + detail);
                return VotingCommandLine.Failed;
            }

            if (DateTimeOffset.UtcNow >= deadline)
            {
                await Console.Error.WriteLineAsync($"voting: the poll was not sealed within {timeout}: " + detail);
                return VotingCommandLine.Failed;
            }

            if (detail != said)
            {
                Console.Out.WriteLine("Waiting: " + detail);
                said = detail;
            }

            var retryAfter = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            await Task.Delay(TimeSpan.FromSeconds(Math.Clamp(retryAfter.TotalSeconds, 0.5, 5)), cancellationToken);
        }

        output.Create();
        foreach (var (path, file) in new[] { ("api/poll/seal", SealExport.ManifestFile), ("api/poll/seal/" + BallotsCsv.FileName, BallotsCsv.FileName), ("api/poll/seal/" + SealExport.PublicKeyFile, SealExport.PublicKeyFile) })
        {
            using var response = await SendAsync(http, HttpMethod.Get, new Uri(management, path), worker, cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new CliException($"{worker} did not give {file}: " + await DetailAsync(response, cancellationToken));
            }

            await using var copy = File.Create(Path.Combine(output.FullName, file));
            await response.Content.CopyToAsync(copy, cancellationToken);
        }

        Console.Out.WriteLine($"Sealed; the export is in {output.FullName}. Verifying it as anyone would (./voting verify {output.FullName}):");
        return await VerifyCommand.RunAsync(output, cancellationToken);
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, Uri uri, string worker, CancellationToken cancellationToken)
    {
        try
        {
            // Headers only: ballots.csv is streamed to its file.
            return await http.SendAsync(new HttpRequestMessage(method, uri), HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !cancellationToken.IsCancellationRequested)
        {
            throw new CliException($"{worker} did not answer: {e.Message}");
        }
    }

    private static async Task<string> DetailAsync(HttpResponseMessage response, CancellationToken cancellationToken)
    {
        try
        {
            var body = await response.Content.ReadFromJsonAsync<JsonElement>(cancellationToken);
            if (body.ValueKind is JsonValueKind.Object && body.TryGetProperty("detail", out var detail) && detail.GetString() is { } text)
            {
                return text;
            }
        }
        catch (JsonException)
        {
        }

        return string.Create(CultureInfo.InvariantCulture, $"{(int)response.StatusCode} {response.ReasonPhrase}");
    }
}
