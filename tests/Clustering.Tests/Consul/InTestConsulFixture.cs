using Voting.Clustering.Consul.Testing;

namespace Voting.Clustering.Tests.Consul;

/// <summary>One in-test Consul shared by the tests of a collection; each test works under keys of its own.</summary>
public sealed class InTestConsulFixture : IAsyncLifetime
{
    public InTestConsul Consul { get; private set; } = null!;

    public async Task InitializeAsync() => Consul = await InTestConsul.StartAsync();

    public async Task DisposeAsync() => await Consul.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class InTestConsulCollection : ICollectionFixture<InTestConsulFixture>
{
    public const string Name = "in-test Consul";
}
