using System.Net;
using System.Text.Json;
using System.Xml.Linq;
using Voting.Sealing.Export;
using Voting.Sealing.Verification;
using Voting.Testing;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// The published seal on the results app (<see cref="SealedPollFixture"/>): nothing of it before the seal nor during
/// the embargo; after the release, files that verify with nothing but themselves (byte for byte the worker's export),
/// the summary, the page with the root and the counts, and a chart that is an SVG of the count.
/// </summary>
[Collection(SealedPollCollection.Name)]
public sealed class FinalResultsTests(SealedPollFixture poll)
{
    private static readonly string[] SealPaths =
    [
        "api/results/final", "api/results/final/manifest.json", "api/results/final/ballots.csv",
        "api/results/final/public-key.pem", "api/results/final/chart.svg",
    ];

    [Fact]
    public void NothingOfTheSealIsServedBeforeItIsSealedNorBeforeTheRelease()
    {
        var root = JsonDocument.Parse(poll.WorkersManifest).RootElement.GetProperty("merkleRoot").GetString()!;
        foreach (var (stage, answers, reason) in new[]
        {
            ("before the seal", poll.BeforeSeal, "is not sealed yet"),
            ("sealed, under embargo", poll.BeforeRelease, "The results are under embargo"),
        })
        {
            foreach (var path in SealPaths.Concat(answers.Keys.Where(k => k.StartsWith("api/receipts/", StringComparison.Ordinal))))
            {
                var answer = answers[path];
                Assert.True(answer.Status == HttpStatusCode.Conflict, $"{stage}, {path}: {(int)answer.Status} {answer.Text}");
                Assert.Equal("unavailable", answer.Json.GetProperty("status").GetString());
                Assert.Contains(reason, answer.Json.GetProperty("reason").GetString(), StringComparison.Ordinal);
                Assert.Equal(JsonValueKind.Null, answer.Json.GetProperty("releaseAt").ValueKind);
                Assert.DoesNotContain(root, answer.Text, StringComparison.Ordinal);
            }

            var page = answers[""].Text;
            Assert.DoesNotContain(root, page, StringComparison.Ordinal);
            Assert.DoesNotContain("id=\"final\"", page, StringComparison.Ordinal);
            Assert.DoesNotContain("chart.svg", page, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task TheReleasedFilesVerifyAndAreTheWorkersExportByteForByte()
    {
        var directory = TestDirectories.Create("final-download");
        foreach (var (path, file) in new[] { ("manifest.json", SealExport.ManifestFile), ("ballots.csv", BallotsCsv.FileName), ("public-key.pem", SealExport.PublicKeyFile) })
        {
            var answer = await poll.AskAsync("api/results/final/" + path);
            Assert.Equal(HttpStatusCode.OK, answer.Status);
            await File.WriteAllBytesAsync(Path.Combine(directory, file), answer.Bytes);
        }

        var verified = await ExportVerifier.VerifyAsync(directory, CancellationToken.None);

        Assert.True(verified.Verified, string.Join("\n", verified.Problems));
        Assert.Equal(poll.WorkersManifest, await File.ReadAllBytesAsync(Path.Combine(directory, SealExport.ManifestFile)));
        Assert.Equal(poll.WorkersBallots, await File.ReadAllBytesAsync(Path.Combine(directory, BallotsCsv.FileName)));
        Assert.Equal(poll.Latest.Count(), verified.Manifest!.Total);
        Assert.Equal(poll.Latest.Count(o => o.Option == "a"), verified.Manifest.Tallies[0]);
    }

    [Fact]
    public async Task TheSummaryStatesTheSealedCountWithLabelsAndLinks()
    {
        var answer = await poll.AskAsync("api/results/final");
        var manifest = JsonDocument.Parse(poll.WorkersManifest).RootElement;
        var summary = answer.Json;

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal(manifest.GetProperty("merkleRoot").GetString(), summary.GetProperty("merkleRoot").GetString());
        Assert.Equal(manifest.GetProperty("pollName").GetString(), summary.GetProperty("pollName").GetString());
        Assert.Equal(poll.Latest.Count(), summary.GetProperty("total").GetInt64());
        Assert.Equal(poll.Latest.Count(), summary.GetProperty("ballots").GetInt64());
        Assert.Equal(poll.Latest.Count(), summary.GetProperty("frontends").GetProperty("frontend01").GetInt64());
        var options = summary.GetProperty("options").EnumerateArray().ToList();
        Assert.Equal(["Cats", "Dogs"], options.Select(o => o.GetProperty("label").GetString()));
        Assert.Equal(poll.Latest.Count(v => v.Option == "b"), options[1].GetProperty("count").GetInt64());
        Assert.Equal("/api/results/final/ballots.csv", summary.GetProperty("links").GetProperty("ballots").GetString());
        Assert.Equal("/receipt", summary.GetProperty("links").GetProperty("receipt").GetString());
    }

    [Fact]
    public async Task ThePageShowsTheSealedCountItsRootTheFilesAndHowToVerify()
    {
        var page = (await poll.AskAsync("")).Text;
        var root = JsonDocument.Parse(poll.WorkersManifest).RootElement.GetProperty("merkleRoot").GetString()!;
        var cats = poll.Latest.Count(v => v.Option == "a");

        Assert.Contains($"<code id=\"merkle-root\">{root}</code>", page, StringComparison.Ordinal);
        Assert.Contains($"<tr><td>Cats</td><td>{cats}</td>", page, StringComparison.Ordinal);
        Assert.Contains($"{poll.Latest.Count()} ballots, sealed ", page, StringComparison.Ordinal);
        Assert.Contains("Cats &lt;or&gt; &quot;dogs&quot; &amp; more?", page, StringComparison.Ordinal);
        foreach (var file in (string[])["manifest.json", "ballots.csv", "public-key.pem", "chart.svg"])
        {
            Assert.Contains($"href=\"/api/results/final/{file}\"", page, StringComparison.Ordinal);
        }

        Assert.Contains("./voting verify DIR", page, StringComparison.Ordinal);
        Assert.Contains("href=\"/receipt\"", page, StringComparison.Ordinal);
    }

    [Fact]
    public async Task TheChartIsAStandaloneSvgOfTheSealedCount()
    {
        var answer = await poll.AskAsync("api/results/final/chart.svg");
        var manifest = JsonDocument.Parse(poll.WorkersManifest).RootElement;

        Assert.Equal(HttpStatusCode.OK, answer.Status);
        Assert.Equal("image/svg+xml", answer.MediaType);
        var svg = XDocument.Parse(answer.Text).Root!;
        XNamespace ns = "http://www.w3.org/2000/svg";
        Assert.Equal(ns + "svg", svg.Name);
        Assert.Equal($"0 0 {svg.Attribute("width")!.Value} {svg.Attribute("height")!.Value}", svg.Attribute("viewBox")!.Value);
        var texts = svg.Descendants(ns + "text").Select(t => t.Value).ToList();
        Assert.Contains(manifest.GetProperty("pollName").GetString(), texts);
        Assert.Contains("Cats", texts);
        Assert.Contains("Dogs", texts);
        var cats = poll.Latest.Count(v => v.Option == "a");
        Assert.Contains(texts, t => t.StartsWith($"{cats} (", StringComparison.Ordinal) && t.EndsWith("%)", StringComparison.Ordinal));
        Assert.Contains($"Total: {poll.Latest.Count()} ballots", texts);
        Assert.Contains(texts, t => t.StartsWith("sealed ", StringComparison.Ordinal)
            && t.Contains(manifest.GetProperty("merkleRoot").GetString()![..16], StringComparison.Ordinal));
    }
}
