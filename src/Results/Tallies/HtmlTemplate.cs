using System.Text;
using System.Text.RegularExpressions;

namespace Voting.Results.Tallies;

/// <summary>
/// A text with named holes (<c>{{name}}</c>), split once. Only the names it is given are its holes: any other
/// <c>{{...}}</c> is text, left for another template.
/// </summary>
internal sealed partial class HtmlTemplate
{
    private readonly List<string> _texts = [];
    private readonly List<string> _holes = [];

    /// <param name="text">The template.</param>
    /// <param name="source">Where it comes from, for the message when a hole is missing.</param>
    /// <param name="holes">The names of its holes; each must appear at least once.</param>
    public HtmlTemplate(string text, string source, params string[] holes)
    {
        var start = 0;
        foreach (Match match in HolePattern().Matches(text))
        {
            var name = match.Groups[1].Value;
            if (!holes.Contains(name))
            {
                continue;
            }

            _texts.Add(text[start..match.Index]);
            _holes.Add(name);
            start = match.Index + match.Length;
        }

        _texts.Add(text[start..]);
        if (holes.FirstOrDefault(h => !_holes.Contains(h)) is { } missing)
        {
            throw new InvalidOperationException($"{source} has no {{{{{missing}}}}}.");
        }
    }

    /// <summary>Appends the text with every hole filled; <paramref name="value"/> gives each hole's text, already encoded.</summary>
    public StringBuilder Render(StringBuilder html, Func<string, string> value)
    {
        for (var i = 0; i < _holes.Count; i++)
        {
            html.Append(_texts[i]).Append(value(_holes[i]));
        }

        return html.Append(_texts[^1]);
    }

    [GeneratedRegex(@"\{\{([a-z-]+)\}\}")]
    private static partial Regex HolePattern();
}
