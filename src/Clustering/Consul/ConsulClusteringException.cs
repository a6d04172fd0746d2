namespace Voting.Clustering.Consul;

/// <summary>
/// Consul could not be used for the membership table: unreachable, too slow, refusing the ACL token, or holding data
/// this provider did not write. A write that is merely refused because the table changed is not an exception: it
/// returns false, as <see cref="IMembershipTable"/> asks.
/// </summary>
public sealed class ConsulClusteringException : Exception
{
    public ConsulClusteringException()
    {
    }

    public ConsulClusteringException(string message)
        : base(message)
    {
    }

    public ConsulClusteringException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
