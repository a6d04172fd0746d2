using System.Diagnostics;
using System.Net;
using Microsoft.Extensions.Logging;
using Voting.Clustering.Consul;
using Voting.Clustering.Consul.Testing;
using Voting.Clustering.Tests.Conformance;

namespace Voting.Clustering.Tests.Consul;

/// <summary>
/// The Consul provider when Consul is guarded by ACLs, slow, unreachable or failing: clear errors in bounded time, and
/// never a blind repeat of a conditional write. Each test runs an in-test Consul of its own, since its faults would
/// disturb other tests.
/// </summary>
public sealed class ConsulFailureTests : IDisposable
{
    private const string Token = "3f6c1a52-membership-token";
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    private readonly string _clusterId = $"faults-{Guid.NewGuid():N}";
    private readonly RecordingLoggerProvider _logs = new();
    private readonly ILoggerFactory _loggers;
    private readonly List<IDisposable> _disposables = [];
    private readonly CancellationTokenSource _timeout = new(TimeSpan.FromMinutes(1));

    public ConsulFailureTests()
    {
        _loggers = _logs.CreateFactory();
    }

    public void Dispose()
    {
        foreach (var disposable in _disposables)
        {
            disposable.Dispose();
        }

        _loggers.Dispose();
        _timeout.Dispose();
    }

    private CancellationToken TestTimeout => _timeout.Token;

    [Fact]
    public async Task TheAclTokenTravelsInAHeaderOnEveryRequestAndNeverInTheUrl()
    {
        await using var consul = await InTestConsul.StartAsync(requiredToken: Token);
        var (table, gateways) = Providers(consul, o => o.Token = Token);

        await table.InitializeMembershipTableAsync(true, TestTimeout);
        var entry = Entry(SiloStatus.Active);
        Assert.True(await table.InsertRowAsync(entry, (await table.ReadAllAsync(TestTimeout)).Version.Next(), TestTimeout));
        await table.UpdateIAmAliveAsync(entry, TestTimeout);
        Assert.Single(await gateways.GetGatewaysAsync(TestTimeout));
        await table.CleanupDefunctSiloEntriesAsync(DateTimeOffset.UtcNow, TestTimeout);
        await table.DeleteMembershipTableEntriesAsync(_clusterId, TestTimeout);

        Assert.Equal(7, consul.Requests.Count);
        Assert.All(consul.Requests, request =>
        {
            Assert.Equal("header", request.TokenSource);
            Assert.Equal(Token, request.Token);
            Assert.DoesNotContain(Token, request.Query, StringComparison.Ordinal);
        });
        Assert.DoesNotContain(_logs.Events, e => e.Message.Contains(Token, StringComparison.Ordinal));
    }

    [Fact]
    public async Task WithoutTheTokenTheTableFailsClearlyInsteadOfLookingEmpty()
    {
        await using var consul = await InTestConsul.StartAsync(requiredToken: Token);
        var (owner, _) = Providers(consul, o => o.Token = Token);
        await owner.InitializeMembershipTableAsync(true, TestTimeout);
        Assert.True(await owner.InsertRowAsync(Entry(SiloStatus.Active), (await owner.ReadAllAsync(TestTimeout)).Version.Next(), TestTimeout));
        var (table, gateways) = Providers(consul);

        var initialize = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.InitializeMembershipTableAsync(true, TestTimeout));
        var read = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.ReadAllAsync(TestTimeout));
        var insert = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.InsertRowAsync(Entry(SiloStatus.Joining, port: 11112), new TableVersion(2, "1"), TestTimeout));
        var list = await Assert.ThrowsAsync<ConsulClusteringException>(() => gateways.GetGatewaysAsync(TestTimeout));

        Assert.Contains("Permission denied", initialize.Message, StringComparison.Ordinal);
        Assert.Contains("may not read", read.Message, StringComparison.Ordinal);
        Assert.Contains("Permission denied", insert.Message, StringComparison.Ordinal);
        Assert.All(new[] { initialize, read, insert, list }, e => Assert.Contains("Clustering:Consul:Token", e.Message, StringComparison.Ordinal));
        Assert.Single((await owner.ReadAllAsync(TestTimeout)).Members);
    }

    [Fact]
    public async Task AWrongTokenFailsClearlyWithoutShowingTheToken()
    {
        const string wrong = "wrong-but-still-secret-token";
        await using var consul = await InTestConsul.StartAsync(requiredToken: Token);
        var (table, _) = Providers(consul, o => o.Token = wrong);

        var error = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.ReadAllAsync(TestTimeout));

        Assert.Contains("ACL not found", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering:Consul:Token", error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(wrong, error.Message, StringComparison.Ordinal);
        Assert.Contains(_logs.Events, e => e.Level == LogLevel.Error && e.Message.Contains("ACL not found", StringComparison.Ordinal));
        Assert.DoesNotContain(_logs.Events, e => e.Message.Contains(wrong, StringComparison.Ordinal));
    }

    [Fact]
    public async Task ASlowConsulEndsInATimeoutErrorAfterTheConfiguredAttempts()
    {
        await using var consul = await InTestConsul.StartAsync();
        consul.ResponseDelay = TimeSpan.FromMinutes(1);
        var (table, _) = Providers(consul, o =>
        {
            o.RequestTimeout = TimeSpan.FromMilliseconds(300);
            o.RetryCount = 2;
        });
        var watch = Stopwatch.StartNew();

        var error = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.ReadAllAsync(TestTimeout).WaitAsync(Patience));

        Assert.InRange(watch.Elapsed, TimeSpan.FromMilliseconds(900), TimeSpan.FromSeconds(10));
        Assert.Contains(consul.Address, error.Message, StringComparison.Ordinal);
        Assert.Contains("after 3 attempt(s)", error.Message, StringComparison.Ordinal);
        Assert.Contains("no answer within 00:00:00.3000000", error.Message, StringComparison.Ordinal);
        // The client's own count of attempts; the server may not have seen one whose 300 ms ran out on a busy machine
        // before the request reached it, but it never sees more.
        Assert.InRange(consul.Requests.Count, 1, 3);
        Assert.Equal(2, _logs.Events.Count(e => e.Level == LogLevel.Warning && e.Id.Id == 1));
        Assert.Single(_logs.Events, e => e.Level == LogLevel.Error && e.Id.Id == 2);
    }

    [Fact]
    public async Task AnUnreachableConsulEndsInAClearErrorAfterTheConfiguredAttempts()
    {
        await using var consul = await InTestConsul.StartAsync();
        await consul.StopAsync();
        var (table, _) = Providers(consul, o => o.RetryCount = 2);

        var error = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.InitializeMembershipTableAsync(true, TestTimeout).WaitAsync(Patience));

        Assert.Contains(consul.Address, error.Message, StringComparison.Ordinal);
        Assert.Contains("cannot connect", error.Message, StringComparison.Ordinal);
        Assert.Contains("Clustering:Consul:Address", error.Message, StringComparison.Ordinal);
        Assert.Equal(2, _logs.Events.Count(e => e.Level == LogLevel.Warning && e.Message.Contains("cannot connect", StringComparison.Ordinal)));
        Assert.Single(_logs.Events, e => e.Level == LogLevel.Error && e.Message.Contains("is unreachable", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ServerErrorsOnReadsAreRetried()
    {
        await using var consul = await InTestConsul.StartAsync();
        var (table, _) = Providers(consul, o => o.RetryCount = 2);
        consul.FailNext(2, HttpStatusCode.InternalServerError);

        var table0 = await table.ReadAllAsync(TestTimeout);

        Assert.Empty(table0.Members);
        Assert.Equal(3, consul.Requests.Count);
    }

    [Fact]
    public async Task AConditionalWriteWhoseAnswerIsLostIsNotRepeated()
    {
        await using var consul = await InTestConsul.StartAsync();
        var (table, _) = Providers(consul);
        await table.InitializeMembershipTableAsync(true, TestTimeout);
        var version = (await table.ReadAllAsync(TestTimeout)).Version;
        var entry = Entry(SiloStatus.Joining);
        consul.LoseAnswerToNextWrite();

        var error = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.InsertRowAsync(entry, version.Next(), TestTimeout));

        Assert.Contains("may or may not have applied", error.Message, StringComparison.Ordinal);
        Assert.Single(consul.Requests, r => r.Path == "/v1/txn");
        // It was applied: a blind repeat would now report a conflict that never happened.
        Assert.Single((await table.ReadRowAsync(entry.SiloAddress, TestTimeout)).Members);
        Assert.False(await table.InsertRowAsync(entry, version.Next(), TestTimeout));
    }

    [Fact]
    public async Task AConditionalWriteAnsweredWithAServerErrorIsNotRepeated()
    {
        await using var consul = await InTestConsul.StartAsync();
        var (table, _) = Providers(consul);
        await table.InitializeMembershipTableAsync(true, TestTimeout);
        var version = (await table.ReadAllAsync(TestTimeout)).Version;
        consul.FailNext(1, HttpStatusCode.InternalServerError);

        var error = await Assert.ThrowsAsync<ConsulClusteringException>(() => table.InsertRowAsync(Entry(SiloStatus.Joining), version.Next(), TestTimeout));

        Assert.Contains("HTTP 500", error.Message, StringComparison.Ordinal);
        Assert.Single(consul.Requests, r => r.Path == "/v1/txn");
        Assert.Contains(_logs.Events, e => e.Level == LogLevel.Error && e.Id.Id == 3);
    }

    [Fact]
    public async Task AConditionalWriteIsSentAgainWhenTheConnectionWasRefused()
    {
        await using var consul = await InTestConsul.StartAsync();
        var (table, _) = Providers(consul, o =>
        {
            // Retries for 100 ms × (2⁸ − 1) ≈ 25 s: time enough to restart the in-test Consul on a busy machine.
            o.RetryCount = 8;
            o.RetryBackoff = TimeSpan.FromMilliseconds(100);
        });
        await table.InitializeMembershipTableAsync(true, TestTimeout);
        var version = (await table.ReadAllAsync(TestTimeout)).Version;
        await consul.StopAsync();

        var insert = table.InsertRowAsync(Entry(SiloStatus.Joining), version.Next(), TestTimeout);
        await _logs.WaitForAsync(e => e.Id.Id == 1 && e.Message.Contains("/v1/txn", StringComparison.Ordinal) && e.Message.Contains("cannot connect", StringComparison.Ordinal), Patience);
        await consul.RestartAsync();

        Assert.True(await insert.WaitAsync(Patience));
        Assert.Single(consul.Requests, r => r.Path == "/v1/txn");
        Assert.Single((await table.ReadAllAsync(TestTimeout)).Members);
    }

    private MembershipProviders Providers(InTestConsul consul, Action<ConsulClusteringOptions>? configure = null)
    {
        var providers = ConsulMembershipTableTests.Providers(consul, _clusterId, configure, _loggers);
        _disposables.Add((IDisposable)providers.Table);
        _disposables.Add((IDisposable)providers.Gateways);
        return providers;
    }

    private static MembershipEntry Entry(SiloStatus status, int port = 11111) => new()
    {
        SiloAddress = SiloAddress.New(IPAddress.Loopback, port, 42),
        Status = status,
        ProxyPort = 30000,
        HostName = "faults-host",
        SiloName = $"silo-{port}",
        StartTime = DateTime.UtcNow,
        IAmAliveTime = DateTime.UtcNow,
    };
}
