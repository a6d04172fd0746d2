using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Extensions.FileProviders;
using Voting.Results.Final;
using Voting.Results.Poll;
using Voting.ServiceDefaults.Voting;

namespace Voting.Results.Tallies;

/// <summary>
/// The results page's first paint: <c>wwwroot/index.html</c>, read once, with the title and the counts filled in, so
/// that the page shows the numbers before (and without) its script. <c>results.js</c> keeps it current afterwards.
/// Once the poll is sealed and the results released, the page also shows the final count (<c>wwwroot/final.html</c>):
/// the sealed tallies, the Merkle root, the files and how to check them.
/// </summary>
public sealed class ResultsPage
{
    private const string TemplateFile = "index.html";
    private const string FinalFile = "final.html";
    private const string OptionStart = "<template id=\"option\">";
    private const string OptionEnd = "</template>";

    private readonly HtmlTemplate _page;
    private readonly HtmlTemplate _option;
    private readonly HtmlTemplate _final;

    private ResultsPage(string html, string final)
    {
        _page = new HtmlTemplate(html, TemplateFile, "title", "options", "total", "read-at", "final");
        _final = new HtmlTemplate(final, FinalFile, "poll-name", "rows", "total", "sealed-at", "root");
        // One option's row is the page's own <template>, which the script clones too.
        var start = html.IndexOf(OptionStart, StringComparison.Ordinal) + OptionStart.Length;
        var end = html.IndexOf(OptionEnd, Math.Max(start, 0), StringComparison.Ordinal);
        if (start < OptionStart.Length || end < 0)
        {
            throw new InvalidOperationException($"{TemplateFile} has no {OptionStart}...{OptionEnd}.");
        }

        _option = new HtmlTemplate(html[start..end], TemplateFile + " " + OptionStart, "label", "count", "percent");
    }

    /// <summary>Reads the page from the web root (<c>wwwroot</c>, next to the application in the build and publish output).</summary>
    public static ResultsPage Load(IFileProvider webRoot) => new(Read(webRoot, TemplateFile), Read(webRoot, FinalFile));

    /// <summary>The page with these counts, or, with none, saying that they cannot be read; and the sealed count, if given.</summary>
    public string Render(BallotOptions ballot, ResultsSnapshot? snapshot, FinalResults? final)
    {
        var title = Encode(string.Join(" vs ", ballot.All.Select(o => o.Label)));
        return _page.Render(new StringBuilder(2048), hole => hole switch
        {
            "title" => title,
            "options" => Options(snapshot),
            "total" => snapshot is null ? "The results cannot be read right now." : $"{snapshot.Total.ToString("N0", CultureInfo.InvariantCulture)} votes",
            "read-at" => snapshot is null ? "" : "Counted at " + snapshot.ReadAt.ToString("u", CultureInfo.InvariantCulture),
            "final" => final is null ? "" : Final(final),
            _ => throw new UnreachableException(hole),
        }).ToString();
    }

    /// <summary>The page under embargo: when the results will be announced, and no count.</summary>
    public string RenderEmbargoed(BallotOptions ballot, Embargo embargo)
    {
        var title = Encode(string.Join(" vs ", ballot.All.Select(o => o.Label)));
        return _page.Render(new StringBuilder(2048), hole => hole switch
        {
            "title" => title,
            "options" => "",
            "total" => Encode(embargo.Sentence),
            "read-at" => "",
            "final" => "",
            _ => throw new UnreachableException(hole),
        }).ToString();
    }

    private string Options(ResultsSnapshot? snapshot)
    {
        var html = new StringBuilder(512);
        foreach (var option in snapshot?.Options ?? [])
        {
            var percent = option.Percent.ToString("0.0", CultureInfo.InvariantCulture);
            _option.Render(html, hole => hole switch
            {
                "label" => Encode(option.Label),
                "count" => option.Count.ToString("N0", CultureInfo.InvariantCulture),
                "percent" => percent,
                _ => throw new UnreachableException(hole),
            });
        }

        return html.ToString();
    }

    /// <summary>The final count's section: the sealed tallies, the root, the files and how to verify them.</summary>
    private string Final(FinalResults final)
    {
        var rows = new StringBuilder(256);
        foreach (var option in final.Options)
        {
            rows.Append("<tr><td>").Append(Encode(option.Label)).Append("</td><td>")
                .Append(option.Count.ToString("N0", CultureInfo.InvariantCulture)).Append("</td><td>")
                .Append(option.Percent.ToString("0.0", CultureInfo.InvariantCulture)).Append("%</td></tr>");
        }

        return _final.Render(new StringBuilder(2048), hole => hole switch
        {
            "poll-name" => Encode(final.PollName),
            "rows" => rows.ToString(),
            "total" => final.Total.ToString("N0", CultureInfo.InvariantCulture),
            "sealed-at" => final.SealedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm:ss 'UTC'", CultureInfo.InvariantCulture),
            "root" => Encode(final.MerkleRoot),
            _ => throw new UnreachableException(hole),
        }).ToString();
    }

    private static string Read(IFileProvider webRoot, string name)
    {
        var file = webRoot.GetFileInfo(name);
        if (!file.Exists)
        {
            throw new InvalidOperationException($"The results page wwwroot/{name} is missing from the application's web root.");
        }

        using var reader = new StreamReader(file.CreateReadStream(), Encoding.UTF8);
        return reader.ReadToEnd();
    }

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}
