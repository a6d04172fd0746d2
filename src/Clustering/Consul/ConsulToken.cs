namespace Voting.Clustering.Consul;

/// <summary>
/// The ACL token to send: <see cref="ConsulClusteringOptions.Token"/>, or the contents of
/// <see cref="ConsulClusteringOptions.TokenFile"/> read again whenever the file changes, so that an operator who
/// rotates the token (a new Swarm secret, a file rewritten by a Consul agent's token sink) needs no restart.
/// </summary>
internal sealed class ConsulToken(ConsulClusteringOptions options)
{
    private readonly Lock _lock = new();
    private (DateTime Written, long Length) _version;
    private string? _fromFile;

    /// <summary>The token now; null when Consul runs without ACLs.</summary>
    public string? Current
    {
        get
        {
            if (string.IsNullOrEmpty(options.TokenFile))
            {
                return string.IsNullOrEmpty(options.Token) ? null : options.Token;
            }

            lock (_lock)
            {
                // A stat per request is cheap at the membership table's pace; the file is read only when it changed.
                var file = new FileInfo(options.TokenFile);
                var version = file.Exists ? (file.LastWriteTimeUtc, file.Length) : default;
                if (_fromFile is null || version != _version)
                {
                    _fromFile = Read(options.TokenFile, out var problem) ?? (_fromFile is null
                        ? throw new ConsulClusteringException(
                            $"Setting '{ConsulClusteringOptions.SectionName}:TokenFile' {problem}")
                        // Half-written, or being replaced: keep the last good token until the file reads well.
                        : _fromFile);
                    _version = version;
                }

                return _fromFile;
            }
        }
    }

    /// <summary>The token in <paramref name="path"/>, trimmed; null with the reason when there is none to use.</summary>
    public static string? Read(string path, out string? problem)
    {
        string text;
        try
        {
            text = File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            problem = $"names a file that cannot be read: {e.Message}";
            return null;
        }

        problem = text.Length == 0 ? "names an empty file."
            : ConsulClusteringOptionsValidator.IsSendable(text) ? null
            : "names a file whose token contains spaces or characters that cannot be sent in an HTTP header.";
        return problem is null ? text : null;
    }
}
