using System.Net;
using Voting.Clustering.Consul;
using Voting.Clustering.Consul.Testing;
using Voting.Clustering.Tests.Conformance;
using Voting.Testing;

namespace Voting.Clustering.Tests.Consul;

/// <summary>
/// Consul with ACLs as the stack runs it (<c>default_policy = "deny"</c>, the application's token limited to its key
/// prefix), on the in-test Consul: the table works under the prefix and nowhere else, and a token rotated in its file
/// is taken without a restart.
/// </summary>
public sealed class ConsulAclTests : IDisposable
{
    private readonly string _clusterId = $"acl-{Guid.NewGuid():N}";
    private readonly string _directory = TestDirectories.Create("consul-acl");
    private readonly List<IDisposable> _disposables = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(1));

    public void Dispose()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        _timeout.Dispose();
    }

    private CancellationToken TestTimeout => _timeout.Token;

    [Fact]
    public async Task ATokenRotatedInItsFileIsTakenWithoutARestart()
    {
        await using var consul = await InTestConsul.StartAsync(requiredToken: "first-token-0001");
        var file = Path.Combine(_directory, "consul.token");
        await File.WriteAllTextAsync(file, "first-token-0001\n", TestTimeout);
        var (table, gateways) = Providers(consul, o => o.TokenFile = file);
        await table.InitializeMembershipTableAsync(true, TestTimeout);
        Assert.True(await table.InsertRowAsync(Entry(), (await table.ReadAllAsync(TestTimeout)).Version.Next(), TestTimeout));

        // The operator rotates the token in Consul first: the old one is no longer found.
        consul.RotateToken("second-token-0002");
        var refused = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.ReadAllAsync(TestTimeout));
        Assert.Contains("ACL not found", refused.Message, StringComparison.Ordinal);

        // Then in the file (the Swarm secret, the agent's token sink): the same table, not restarted, goes on.
        await File.WriteAllTextAsync(file, "second-token-0002\n", TestTimeout);
        File.SetLastWriteTimeUtc(file, DateTime.UtcNow.AddSeconds(1));
        Assert.Single((await table.ReadAllAsync(TestTimeout)).Members);
        Assert.Single(await gateways.GetGatewaysAsync(TestTimeout));
        Assert.Equal("second-token-0002", consul.Requests[^1].Token);
        Assert.Equal("header", consul.Requests[^1].TokenSource);
    }

    [Fact]
    public async Task ATokenLimitedToItsKeyPrefixKeepsTheTableUnderItAndNothingElse()
    {
        const string token = "orleans-prefix-token";
        await using var consul = await InTestConsul.StartAsync(requiredToken: token, tokenKeyPrefix: "orleans/");
        var (table, gateways) = Providers(consul, o =>
        {
            o.Token = token;
            o.KvRoot = "orleans/";
        });
        await table.InitializeMembershipTableAsync(true, TestTimeout);
        Assert.True(await table.InsertRowAsync(Entry(), (await table.ReadAllAsync(TestTimeout)).Version.Next(), TestTimeout));
        Assert.Single(await gateways.GetGatewaysAsync(TestTimeout));

        // The same token for keys of another application: refused, and the error says which setting to look at.
        var (elsewhere, _) = Providers(consul, o =>
        {
            o.Token = token;
            o.KvRoot = "vault/";
        });
        var error = await Assert.ThrowsAsync<ConsulClusteringException>(() => elsewhere.InitializeMembershipTableAsync(true, TestTimeout));
        Assert.Contains("Permission denied", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering:Consul:Token", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(consul.Store.Snapshot().Keys, key => key.StartsWith("vault/", StringComparison.Ordinal));
    }

    [Fact]
    public void ATokenFileThatCannotBeUsedFailsAtStartUpNamingTheSetting()
    {
        var empty = Path.Combine(_directory, "empty.token");
        File.WriteAllText(empty, "\n");
        foreach (var options in new[]
        {
            new ConsulClusteringOptions { Address = "http://127.0.0.1:8500", TokenFile = Path.Combine(_directory, "none.token") },
            new ConsulClusteringOptions { Address = "http://127.0.0.1:8500", TokenFile = empty },
            new ConsulClusteringOptions { Address = "http://127.0.0.1:8500", TokenFile = empty, Token = "also-a-token" },
        })
        {
            var failures = ConsulClusteringOptionsValidator.Failures(options);
            Assert.Contains(failures, f => f.Contains("Clustering:Consul:TokenFile", StringComparison.Ordinal) && f.Contains("Clustering__Consul__TokenFile", StringComparison.Ordinal));
            Assert.True(new ConsulClusteringOptionsValidator().Validate(null, options).Failed);
        }
    }

    private MembershipProviders Providers(InTestConsul consul, Action<ConsulClusteringOptions> configure)
    {
        var providers = ConsulMembershipTableTests.Providers(consul, _clusterId, configure);
        _disposables.Add((IDisposable)providers.Table);
        _disposables.Add((IDisposable)providers.Gateways);
        return providers;
    }

    private static MembershipEntry Entry() => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, 11111, 42),
        Status = SiloStatus.Active,
        ProxyPort = 30000,
        HostName = "acl-host",
        SiloName = "silo-11111",
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
    };
}
