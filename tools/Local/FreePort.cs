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
    /// for a system whose ports are a base plus an index (<c>./voting up</c>'s <c>VOTING_*_BASE</c> settings). They lie
    /// below the kernel's ephemeral range, so no outgoing connection takes one before the process that is to listen
    /// on it starts, which may be much later.
    /// </summary>
    public static int NextRange(int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        var below = EphemeralRangeStart();
        while (true)
        {
            var first = Random.Shared.Next(10_000, below - count);
            var ports = Enumerable.Range(first, count).ToArray();
            lock (Handed)
            {
                if (ports.Any(Handed.Contains) || !ports.All(IsFree))
                {
                    continue;
                }

                Handed.UnionWith(ports);
            }

            return first;
        }
    }

    private static int EphemeralRangeStart()
    {
        try
        {
            var range = File.ReadAllText("/proc/sys/net/ipv4/ip_local_port_range").Split((char[])['\t', ' '], StringSplitOptions.RemoveEmptyEntries);
            return int.Parse(range[0], System.Globalization.CultureInfo.InvariantCulture) is var start and > 20_000 ? start : 32_768;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or FormatException)
        {
            return 32_768;
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
