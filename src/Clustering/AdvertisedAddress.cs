using System.Net;
using System.Net.NetworkInformation;
using System.Net.Sockets;

namespace Voting.Clustering;

/// <summary>
/// Where other silos reach this one (<c>Clustering:AdvertisedAddress</c>): an IP address as it is; a network
/// (<c>10.0.9.0/24</c>) as this machine's address in it; a host name as the first address it resolves to (IPv4 first).
/// </summary>
internal static class AdvertisedAddress
{
    public static IPAddress? Resolve(string value, out string problem)
    {
        problem = "";
        if (IPAddress.TryParse(value, out var address))
        {
            return address;
        }

        if (value.Contains('/', StringComparison.Ordinal))
        {
            if (!IPNetwork.TryParse(value, out var network))
            {
                problem = $"must be an IP address, a network (e.g. 10.0.9.0/24) or a host name, not '{value}'.";
                return null;
            }

            var local = NetworkInterface.GetAllNetworkInterfaces()
                .Where(i => i.OperationalStatus is OperationalStatus.Up or OperationalStatus.Unknown)
                .SelectMany(i => i.GetIPProperties().UnicastAddresses)
                .Select(a => a.Address)
                .ToArray();
            if (local.FirstOrDefault(network.Contains) is { } inNetwork)
            {
                return inNetwork;
            }

            problem = $"names network {value}, but no address of this machine is in it (it has {string.Join(", ", local.Select(a => a.ToString()))}).";
            return null;
        }

        if (Uri.CheckHostName(value) != UriHostNameType.Dns)
        {
            problem = $"must be an IP address or a host name, not '{value}'.";
            return null;
        }

        try
        {
            var addresses = Dns.GetHostAddresses(value);
            if (addresses.OrderBy(a => a.AddressFamily == AddressFamily.InterNetwork ? 0 : 1).FirstOrDefault() is { } resolved)
            {
                return resolved;
            }

            problem = $"names host '{value}', which resolves to no address.";
        }
        catch (SocketException e)
        {
            problem = $"names host '{value}', which cannot be resolved: {e.Message}";
        }

        return null;
    }
}
