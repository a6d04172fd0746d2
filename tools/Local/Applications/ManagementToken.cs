using System.Net.Http.Headers;
using System.Security.Cryptography;

namespace Voting.Local.Applications;

/// <summary>The management token of a system on one machine, and clients that present it.</summary>
public static class ManagementToken
{
    /// <summary>A new random token: 32 random bytes, base64url (43 characters).</summary>
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The token kept in <paramref name="path"/>, made there first (readable by this user only) if there is none.</summary>
    public static string ReadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path + ".tmp", Generate() + "\n");
            if (!OperatingSystem.IsWindows())
            {
                File.SetUnixFileMode(path + ".tmp", UnixFileMode.UserRead | UnixFileMode.UserWrite);
            }

            try
            {
                File.Move(path + ".tmp", path, overwrite: false);
            }
            catch (IOException) when (File.Exists(path))
            {
                // Another command made it meanwhile: theirs stands.
                File.Delete(path + ".tmp");
            }
        }

        return File.ReadAllText(path).Trim();
    }

    /// <summary>An HTTP client that sends <c>Authorization: Bearer {token}</c> with every request.</summary>
    public static HttpClient Client(string token, TimeSpan? timeout = null)
    {
        var client = new HttpClient { Timeout = timeout ?? TimeSpan.FromSeconds(10) };
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }
}
