using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Voting.EndToEnd.Tests;

/// <summary>
/// A simulated browser: its own cookie jar, talking to whichever front end the load balancer picked. Given a client
/// address, it presents it in <c>X-Forwarded-For</c> on every request (see <see cref="ClientAddresses"/>), as a voter
/// of its own behind a trusted proxy; without one, it is the test machine's own address, 127.0.0.1.
/// </summary>
internal sealed partial class Browser : IDisposable
{
    private readonly HttpClient _http;

    /// <param name="forwardedFor">The client address it presents, or null for its own.</param>
    /// <param name="trust">Over HTTPS, the only roots trusted (a test's self-signed certificate); null: the system's.</param>
    public Browser(string? forwardedFor = null, X509ChainPolicy? trust = null)
    {
        Cookies = new CookieContainer();
        var handler = new SocketsHttpHandler { CookieContainer = Cookies, UseCookies = true, AllowAutoRedirect = false };
        if (trust is not null)
        {
            handler.SslOptions.CertificateChainPolicy = trust;
        }

        _http = new HttpClient(handler)
        {
            Timeout = TimeSpan.FromSeconds(15),
        };
        if (forwardedFor is not null)
        {
            _http.DefaultRequestHeaders.Add("X-Forwarded-For", forwardedFor);
        }
    }

    /// <summary>A browser of a voter of its own, from an address no other test uses.</summary>
    public static Browser OfItsOwn() => new(ClientAddresses.Next());

    public CookieContainer Cookies { get; }

    public Task<HttpResponseMessage> OpenAsync(Uri frontend) => _http.GetAsync(frontend);

    public Task<HttpResponseMessage> VoteWithFormAsync(Uri frontend, string option) =>
        _http.PostAsync(frontend, new FormUrlEncodedContent([new KeyValuePair<string, string>("vote", option)]));

    public Task<HttpResponseMessage> VoteWithJsonAsync(Uri frontend, string option) =>
        _http.PostAsJsonAsync(new Uri(frontend, "api/votes"), new { option });

    public Task<HttpResponseMessage> SendAsync(HttpRequestMessage request) => _http.SendAsync(request);

    /// <summary>The voter cookie: <c>__Host-voter_id</c> over HTTPS, <c>voter_id</c> over plain HTTP.</summary>
    public string? VoterCookie(Uri frontend) => (Cookies.GetCookies(frontend)["__Host-voter_id"] ?? Cookies.GetCookies(frontend)["voter_id"])?.Value;

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;

    /// <summary>The front end a vote page says processed it ("Vote processed by host (frontend01)"), or "".</summary>
    public static string ProcessedBy(string page) => ProcessedByPattern().Match(page).Groups[1].Value;

    public void Dispose() => _http.Dispose();

    [GeneratedRegex(@"Vote processed by [^(<]+\(([A-Za-z0-9_-]+)\)")]
    private static partial Regex ProcessedByPattern();
}
