using Microsoft.Extensions.Options;
using Yarp.ReverseProxy.Forwarder;

namespace Voting.Balancer.Routing;

/// <summary>YARP's client to the front ends, with a connect timeout short enough to try another front end instead.</summary>
public sealed class BalancerHttpClientFactory(IOptions<BalancerOptions> options) : ForwarderHttpClientFactory
{
    protected override void ConfigureHandler(ForwarderHttpClientContext context, SocketsHttpHandler handler)
    {
        base.ConfigureHandler(context, handler);
        handler.ConnectTimeout = options.Value.ConnectTimeout;
    }
}
