using System.Text;
using System.Text.Encodings.Web;
using Voting.ServiceDefaults.Voting;

namespace Voting.Web.Voting;

/// <summary>What the vote page tells the voter, besides the ballot.</summary>
public enum VotePageNotice
{
    None,
    Recorded,
    NotRecorded,
    Rejected,
}

/// <summary>The seed's vote page: the options as buttons, the voter's choice marked, and who processed the request.</summary>
public sealed class VotePage(BallotOptions ballot, string frontendId)
{
    private static readonly string Host = Environment.MachineName;
    private readonly string _title = Title(ballot.All);

    public string Render(string? chosenKey, VotePageNotice notice, string? message = null)
    {
        var html = new StringBuilder(2048);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
            .Append(Encode(_title)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n<main>\n<h1>")
            .Append(Encode(_title)).Append("</h1>\n<form method=\"post\" action=\"/\">\n");

        foreach (var option in ballot.All)
        {
            var chosen = string.Equals(option.Key, chosenKey, StringComparison.Ordinal);
            html.Append("<button type=\"submit\" name=\"vote\" value=\"").Append(option.Key).Append('"')
                .Append(" id=\"option-").Append(option.Key).Append('"')
                .Append(chosen ? " class=\"chosen\" aria-pressed=\"true\"" : "").Append('>')
                .Append(Encode(option.Label)).Append(chosen ? " &#10004;" : "").Append("</button>\n");
        }

        html.Append("</form>\n");
        switch (notice)
        {
            case VotePageNotice.Recorded:
                html.Append("<p class=\"notice ok\" role=\"status\">Your vote for ").Append(Encode(ballot.LabelOf(chosenKey ?? "")))
                    .Append(" is recorded.</p>\n");
                break;
            case VotePageNotice.NotRecorded:
                html.Append("<p class=\"notice error\" role=\"alert\">Your vote was <strong>not</strong> recorded: ")
                    .Append(Encode(message ?? "please try again.")).Append("</p>\n");
                break;
            case VotePageNotice.Rejected:
                html.Append("<p class=\"notice error\" role=\"alert\">").Append(Encode(message ?? "That vote is not valid.")).Append("</p>\n");
                break;
        }

        html.Append("<p class=\"tip\">(Tip: you can change your vote)</p>\n<p class=\"host\">Vote processed by ")
            .Append(Encode(Host)).Append(" (").Append(Encode(frontendId)).Append(")</p>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    private static string Encode(string text) => HtmlEncoder.Default.Encode(text);

    private static string Title(IReadOnlyList<BallotOption> options) => options.Count switch
    {
        1 => options[0].Label + "?",
        2 => $"{options[0].Label} vs {options[1].Label}!",
        _ => string.Join(", ", options.Take(options.Count - 1).Select(o => o.Label)) + " or " + options[^1].Label + "?",
    };

    private const string Style =
        """
        body{margin:0;font-family:system-ui,sans-serif;background:#f4f4f4;color:#222}
        main{max-width:32rem;margin:8vh auto;padding:2rem;background:#fff;border-radius:8px;text-align:center;box-shadow:0 1px 4px #0002}
        h1{font-weight:500}
        form{display:flex;flex-direction:column;gap:1rem;margin:2rem 0}
        button{font-size:1.5rem;padding:1rem;border:0;border-radius:6px;color:#fff;background:#1aaaf8;cursor:pointer}
        button:nth-of-type(2n){background:#00cbca}
        button.chosen{outline:4px solid #333}
        .notice{padding:.75rem;border-radius:6px}.ok{background:#e6f6e6}.error{background:#fde8e8}
        .tip,.host{color:#666;font-size:.9rem}
        """;
}
