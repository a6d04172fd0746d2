using System.Globalization;
using System.Text;

namespace Voting.Results.Final;

/// <summary>
/// The sealed result as an image a press release can use (<c>chart.svg</c>): a standalone SVG bar chart with the poll's
/// name, each option's label, count and share, the total, when it was sealed and the Merkle root's first digits, so
/// that the picture names the count it shows. Drawn on the server from the manifest; every text is XML-escaped.
/// </summary>
public static class FinalChart
{
    private const int Width = 800;
    private const int Margin = 32;
    private const int TitleHeight = 72;
    private const int RowHeight = 64;
    private const int FooterHeight = 72;
    private const int RootDigits = 16;
    private static readonly string[] Colours = ["#1aaaf8", "#00cbca", "#f8a01a", "#a05cf8"];

    public static string Render(FinalResults results)
    {
        var height = TitleHeight + RowHeight * results.Options.Count + FooterHeight;
        var barWidth = Width - 2 * Margin;
        var svg = new StringBuilder(2048);
        svg.Append(CultureInfo.InvariantCulture, $"""<svg xmlns="http://www.w3.org/2000/svg" width="{Width}" height="{height}" viewBox="0 0 {Width} {height}" font-family="system-ui, sans-serif">""").Append('\n')
            .Append(CultureInfo.InvariantCulture, $"""<rect width="{Width}" height="{height}" fill="#ffffff"/>""").Append('\n')
            .Append(CultureInfo.InvariantCulture, $"""<text x="{Margin}" y="44" font-size="26" fill="#222222">{Escape(results.PollName)}</text>""").Append('\n');
        for (var i = 0; i < results.Options.Count; i++)
        {
            var option = results.Options[i];
            var top = TitleHeight + i * RowHeight;
            var width = results.Total == 0 ? 0 : Math.Round(barWidth * (double)option.Count / results.Total, 1);
            var count = option.Count.ToString("N0", CultureInfo.InvariantCulture);
            var percent = option.Percent.ToString("0.0", CultureInfo.InvariantCulture);
            svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Margin}" y="{top + 20}" font-size="18" fill="#222222">{Escape(option.Label)}</text>""")
                .Append(CultureInfo.InvariantCulture, $"""<text x="{Width - Margin}" y="{top + 20}" font-size="18" fill="#222222" text-anchor="end">{count} ({percent}%)</text>""").Append('\n')
                .Append(CultureInfo.InvariantCulture, $"""<rect x="{Margin}" y="{top + 30}" width="{barWidth}" height="22" rx="4" fill="#eeeeee"/>""")
                .Append(CultureInfo.InvariantCulture, $"""<rect x="{Margin}" y="{top + 30}" width="{width.ToString(CultureInfo.InvariantCulture)}" height="22" rx="4" fill="{Colours[i % Colours.Length]}"/>""").Append('\n');
        }

        var footer = TitleHeight + RowHeight * results.Options.Count;
        var total = results.Total.ToString("N0", CultureInfo.InvariantCulture);
        var sealedAt = results.SealedAt.ToUniversalTime().ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);
        svg.Append(CultureInfo.InvariantCulture, $"""<text x="{Margin}" y="{footer + 28}" font-size="18" fill="#222222">Total: {total} ballots</text>""").Append('\n')
            .Append(CultureInfo.InvariantCulture, $"""<text x="{Margin}" y="{footer + 54}" font-size="14" fill="#666666">sealed {sealedAt} · Merkle root {Escape(results.MerkleRoot[..RootDigits])}…</text>""").Append('\n')
            .Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>Text as XML character data: the five special characters escaped, characters XML 1.0 forbids replaced.</summary>
    public static string Escape(string text)
    {
        var escaped = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            escaped.Append(c switch
            {
                '&' => "&amp;",
                '<' => "&lt;",
                '>' => "&gt;",
                '"' => "&quot;",
                '\'' => "&apos;",
                < ' ' when c is not ('\t' or '\n' or '\r') => "\uFFFD",
                '\uFFFE' or '\uFFFF' => "\uFFFD",
                _ => c.ToString(),
            });
        }

        return escaped.ToString();
    }
}
