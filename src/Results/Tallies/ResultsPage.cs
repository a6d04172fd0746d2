using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using Microsoft.Extensions.FileProviders;
using Voting.Results.Poll;
using Voting.ServiceDefaults.Voting;

namespace Voting.Results.Tallies;

/// <summary>
/// The results page's first paint: <c>wwwroot/index.html</c>, read once, with the title and the counts filled in, so
/// that the page shows the numbers before (and without) its script. <c>results.js</c> keeps it current afterwards.
/// </summary>
public sealed class ResultsPage
{
    private const string TemplateFile = "index.html";
    private const string OptionStart = "<template id=\"option\">";
    private const string OptionEnd = "</template>";

    private readonly HtmlTemplate _page;
    private readonly HtmlTemplate _option;

    private ResultsPage(string html)
    {
        _page = new HtmlTemplate(html, TemplateFile, "title", "options", "total", "read-at");
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
    public static ResultsPage Load(IFileProvider webRoot)
    {
        var file = webRoot.GetFileInfo(TemplateFile);
        if (!file.Exists)
        {
            throw new InvalidOperationException($"The results page wwwroot/{TemplateFile} is missing from the application's web root.");
        }

        using var reader = new StreamReader(file.CreateReadStream(), Encoding.UTF8);
        return new ResultsPage(reader.ReadToEnd());
    }

    /// <summary>The page with these counts, or, with none, saying that they cannot be read.</summary>
    public string Render(BallotOptions ballot, ResultsSnapshot? snapshot)
    {
        var title = Encode(string.Join(" vs ", ballot.All.Select(o => o.Label)));
        return _page.Render(new StringBuilder(2048), hole => hole switch
        {
            "title" => title,
            "options" => Options(snapshot),
            "total" => snapshot is null ? "The results cannot be read right now." : $"{snapshot.Total.ToString("N0", CultureInfo.InvariantCulture)} votes",
            "read-at" => snapshot is null ? "" : "Counted at " + snapshot.ReadAt.ToString("u", CultureInfo.InvariantCulture),
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

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);
}
