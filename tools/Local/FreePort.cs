using System.Net;
using System.Net.Sockets;

namespace Voting.Local;

/// <summary>Loopback ports nobody listens on right now.</summary>
public static class FreePort
{
    private static readonly HashSet<int> Handed = [];

    /// <summary>A port the OS considers free and that this process has not handed out before.</summary>
    public static int Next()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            listener.Stop();
            lock (Handed)
            {
                if (Handed.Add(port))
                {
                    return port;
                }
            }
        }
    }

    /// <summary>
    /// The first of <paramref name="count"/> consecutive ports that are all free now and were not handed out before,
    /// for a system whose ports are a base plus an index (<c>./voting up</c>'s <c>VOTING_*_BASE</c> settings).
    /// </summary>
    public static int NextRange(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        while (true)
        {
            var first = Next();
            if (first + count > IPEndPoint.MaxPort)
            {
                continue;
            }

            var rest = Enumerable.Range(first + 1, count - 1).ToArray();
            lock (Handed)
            {
                if (rest.Any(Handed.Contains) || !rest.All(IsFree))
                {
                    continue;
                }

                Handed.UnionWith(rest);
            }

            return first;
        }
    }

    private static bool IsFree(int port)
    {
        try
        {
            using var listener = new TcpListener(IPAddress.Loopback, port);
            listener.Start();
            listener.Stop();
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }
}
