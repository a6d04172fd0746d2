using System.Security.Cryptography;
using System.Text;
using System.Text.Encodings.Web;
using Voting.ServiceDefaults.Voting;
using Voting.Web.Receipts;

namespace Voting.Web.Voting;

/// <summary>What the vote page tells the voter, besides the ballot.</summary>
public enum VotePageNotice
{
    None,
    Recorded,
    NotRecorded,
    Rejected,
}

/// <summary>
/// The seed's vote page: the options as buttons, the voter's choice marked, and who processed the request; after a
/// vote, its receipt (linking to <paramref name="receiptPage"/>, the results app's, when it is configured).
/// </summary>
public sealed class VotePage(BallotOptions ballot, string frontendId, Uri? receiptPage = null)
{
    private static readonly string Host = Environment.MachineName;
    private readonly string _title = Title(ballot.All);

    public string Render(string? chosenKey, VotePageNotice notice, string? message = null, Receipt? receipt = null)
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
                if (receipt is not null)
                {
                    AppendReceipt(html, receipt);
                }

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

    /// <summary>
    /// The vote's receipt, each value selected whole with one click (the page runs no script, so there is no copy
    /// button). Without a code (no <c>Poll:PseudonymKey</c> here) the vote id is shown alone, and the page says that
    /// it cannot be checked against the sealed count.
    /// </summary>
    private void AppendReceipt(StringBuilder html, Receipt receipt)
    {
        html.Append("<section class=\"receipt\" id=\"receipt\" aria-labelledby=\"receipt-title\">\n<h2 id=\"receipt-title\">Your receipt</h2>\n<dl>\n")
            .Append("<dt>Vote id</dt><dd><code id=\"receipt-vote-id\">").Append(receipt.VoteId.ToString("D")).Append("</code></dd>\n");
        if (receipt.Code is { } code)
        {
            html.Append("<dt>Code</dt><dd><code id=\"receipt-code\">").Append(Encode(code)).Append("</code></dd>\n</dl>\n")
                .Append("<p>Keep this receipt (write it down or copy it): once the results are released, it lets you check that your vote is in the sealed count")
                .Append(receiptPage is null
                    ? ", on the results site's receipt page."
                    : $" on <a href=\"{Encode(receiptPage.ToString())}\" rel=\"noreferrer\">the receipt page</a>.")
                .Append(" If you vote again, your new vote replaces this one; either receipt finds your latest vote.</p>\n");
        }
        else
        {
            html.Append("</dl>\n<p id=\"receipt-no-code\">Receipt codes are not configured on this site: the vote id alone cannot be checked against the sealed count.</p>\n");
        }

        html.Append("</section>\n");
    }

    /// <summary>The page before the poll opens and after it closes: what the voter is told, and no ballot.</summary>
    public string RenderOutsideWindow(string sentence)
    {
        var html = new StringBuilder(1024);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
            .Append(Encode(_title)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n<main>\n<h1>")
            .Append(Encode(_title)).Append("</h1>\n<p class=\"notice\" role=\"status\" id=\"poll\">").Append(Encode(sentence))
            .Append("</p>\n<p class=\"host\">Vote processed by ")
            .Append(Encode(Host)).Append(" (").Append(Encode(frontendId)).Append(")</p>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>
    /// The page a new voter gets while the identity challenge is on: its script finds the proof of work and posts it
    /// to <c>/identity</c>, which issues the identity and sends the browser back to the ballot.
    /// </summary>
    public string RenderChallenge(string challenge, int bits)
    {
        var html = new StringBuilder(2048);
        html.Append("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n")
            .Append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>")
            .Append(Encode(_title)).Append("</title>\n<style>").Append(Style).Append("</style>\n</head>\n<body>\n<main>\n<h1>")
            .Append(Encode(_title)).Append("</h1>\n<form id=\"challenge\" method=\"post\" action=\"/identity\" data-bits=\"")
            .Append(bits).Append("\">\n<input type=\"hidden\" name=\"challenge\" value=\"").Append(Encode(challenge))
            .Append("\">\n<input type=\"hidden\" name=\"solution\" value=\"\">\n</form>\n")
            .Append("<p class=\"notice\" role=\"status\" id=\"checking\">Checking your browser before the ballot opens&hellip;</p>\n")
            .Append("<noscript><p class=\"notice error\">This vote needs JavaScript: your browser proves it is not a script by solving a small puzzle.</p></noscript>\n")
            .Append("<script>").Append(ChallengeScript).Append("</script>\n<p class=\"host\">Vote processed by ")
            .Append(Encode(Host)).Append(" (").Append(Encode(frontendId)).Append(")</p>\n</main>\n</body>\n</html>\n");
        return html.ToString();
    }

    /// <summary>The challenge page's Content-Security-Policy: the front end's, and its one script, by hash.</summary>
    public static readonly string ChallengePolicy =
        "default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-"
        + Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(ChallengeScript)))
        + "'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>
    /// Counts up from 0 until SHA-256 of <c>{challenge}:{n}</c> has the leading zero bits asked for, then posts n.
    /// Web Crypto is there in every secure context (HTTPS, and http://127.0.0.1 or localhost).
    /// </summary>
    private const string ChallengeScript =
        """
        (async () => {
          const form = document.getElementById('challenge'), bits = Number(form.dataset.bits);
          const status = document.getElementById('checking');
          if (!window.crypto || !crypto.subtle) { status.textContent = 'This browser cannot run the check here (it needs HTTPS).'; return; }
          const encoder = new TextEncoder(), challenge = form.elements.challenge.value;
          const zeros = hash => { let n = 0; for (const b of hash) { if (b) return n + Math.clz32(b) - 24; n += 8; } return n; };
          for (let n = 0; ; n++) {
            const hash = new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(challenge + ':' + n)));
            if (zeros(hash) >= bits) { form.elements.solution.value = String(n); form.submit(); return; }
          }
        })();
        """;

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
        .receipt{margin-top:1.5rem;padding:1rem;border:1px dashed #999;border-radius:6px;text-align:left}
        .receipt h2{margin:0 0 .5rem;font-size:1.1rem;font-weight:500}
        .receipt dl{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:0 0 .75rem}
        .receipt dt{color:#666}.receipt dd{margin:0}
        .receipt code{font-size:1.05rem;user-select:all;-webkit-user-select:all;word-break:break-all}
        """;
}
