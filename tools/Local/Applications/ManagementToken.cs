using System.Net.Http.Headers;
using Voting.Local.Servers;

namespace Voting.Local.Applications;

/// <summary>The management token of a system on one machine, and clients that present it.</summary>
public static class ManagementToken
{
    /// <summary>A new random token: 32 random bytes, base64url (43 characters).</summary>
    public static string Generate() => Secret.Generate();

    /// <summary>The token kept in <paramref name="path"/>, made there first (readable by this user only) if there is none.</summary>
    public static string ReadOrCreate(string path) => Secret.ReadOrCreate(path);

    /// <summary>An HTTP client that sends <c>Authorization: Bearer {token}</c> with every request.</summary>
    public static HttpClient Client(string token, TimeSpan? timeout = null)
    {
        var client = new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
