namespace Voting.Local;

/// <summary>Directories the local system's servers keep their data in.</summary>
public static class LocalDirectories
{
    /// <summary>Deletes a directory and what is in it; one that cannot be deleted is left for the OS's temp cleanup.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Left behind: a test's data, under the temp directory.
        }
    }
}
