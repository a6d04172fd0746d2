using System.Security.Cryptography;

namespace Voting.Local.Servers;

/// <summary>Random secrets of a system on one machine (passwords, tokens), and the files that keep them.</summary>
public static class Secret
{
    /// <summary>A new random secret: 32 random bytes, base64url (43 characters, safe in connection strings and ACL files).</summary>
    public static string Generate() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    /// <summary>The secret kept in <paramref name="path"/>, made there first (readable by this user only) if there is none.</summary>
    public static string ReadOrCreate(string path)
    {
        if (!File.Exists(path))
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            WritePrivate(path + ".tmp", Generate() + "\n");
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

    /// <summary>Writes <paramref name="contents"/> to a file only this user can read (mode 0600), created so from the start.</summary>
    public static void WritePrivate(string path, string contents)
    {
        var options = new FileStreamOptions { Mode = FileMode.Create, Access = FileAccess.Write };
        if (!OperatingSystem.IsWindows())
        {
            options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        }

        using (var stream = new FileStream(path, options))
        using (var writer = new StreamWriter(stream))
        {
            writer.Write(contents);
        }

        if (!OperatingSystem.IsWindows())
        {
            // UnixCreateMode applies to a new file only: one left by an earlier run keeps its mode otherwise.
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
    }
}
