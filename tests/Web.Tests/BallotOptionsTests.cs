using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Voting.ServiceDefaults.Voting;

namespace Voting.Web.Tests;

public sealed class BallotOptionsTests
{
    private static BallotOptions Read(params (string Key, string Value)[] settings) => BallotOptions.FromConfiguration(
        new ConfigurationBuilder().AddInMemoryCollection(settings.Select(s => new KeyValuePair<string, string?>(s.Key, s.Value))).Build());

    [Fact]
    public void WithoutSettingsTheBallotIsCatsVersusDogs()
    {
        Assert.Equal([new BallotOption("a", "Cats"), new BallotOption("b", "Dogs")], Read().All);
    }

    [Fact]
    public void OptionsComeFromOptionVariablesAndMayBeMoreThanTwo()
    {
        var ballot = Read(("OPTION_A", "Tea"), ("OPTION_B", "Coffee"), ("OPTION_C", "Water"));
        Assert.Equal(["Tea", "Coffee", "Water"], ballot.All.Select(o => o.Label));
        Assert.True(ballot.TryGet("c", out var water));
        Assert.Equal("Water", water.Label);
    }

    [Theory]
    [InlineData("z")]
    [InlineData("A")]
    [InlineData("ab")]
    [InlineData("")]
    [InlineData(null)]
    public void KeysThatAreNotOnTheBallotAreNotFound(string? key)
    {
        Assert.False(Read().TryGet(key, out _));
    }

    [Fact]
    public void AnEmptyLabelFailsNamingTheSetting()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Read(("OPTION_B", "  ")));
        Assert.Contains("OPTION_B", error.Message, StringComparison.Ordinal);
    }
}
