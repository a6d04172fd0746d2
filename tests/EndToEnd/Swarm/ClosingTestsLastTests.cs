namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>
/// <see cref="ClosingTestsLast"/> as xunit applies it: the test marked <see cref="ClosesThePollAttribute"/> runs after
/// the others of its class, whatever their names (the Swarm suite's chaos tests need an open poll). xunit runs a
/// class's tests one after the other, in the orderer's order; without it, xunit's own order runs this marked test
/// first (checked: it then fails).
/// </summary>
[TestCaseOrderer(ClosingTestsLast.Name, ClosingTestsLast.Assembly)]
public sealed class ClosingTestsLastTests
{
    private static int _unmarkedRun;

    [Fact]
    [ClosesThePoll]
    public void TheMarkedTestRunsAfterTheOthers() => Assert.Equal(2, _unmarkedRun);

    [Fact]
    public void OneUnmarkedTest() => Interlocked.Increment(ref _unmarkedRun);

    [Fact]
    public void AnotherUnmarkedTest() => Interlocked.Increment(ref _unmarkedRun);
}
