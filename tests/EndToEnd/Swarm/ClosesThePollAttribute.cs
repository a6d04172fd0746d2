using Xunit.Abstractions;
using Xunit.Sdk;

namespace Voting.EndToEnd.Tests.Swarm;

/// <summary>
/// Marks a test that closes the Swarm's poll: a closed poll stays closed and refuses every vote, so it runs after
/// every other test of its class (<see cref="ClosingTestsLast"/>).
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
public sealed class ClosesThePollAttribute : Attribute;

/// <summary>Runs a class's tests in xunit's usual order, except those marked <see cref="ClosesThePollAttribute"/>, which come last.</summary>
public sealed class ClosingTestsLast : ITestCaseOrderer
{
    public const string Name = "Voting.EndToEnd.Tests.Swarm.ClosingTestsLast";
    public const string Assembly = "Voting.EndToEnd.Tests";

    public IEnumerable<TTestCase> OrderTestCases<TTestCase>(IEnumerable<TTestCase> testCases) where TTestCase : ITestCase =>
        testCases
            .OrderBy(c => c.TestMethod.Method.GetCustomAttributes(typeof(ClosesThePollAttribute)).Any())
            .ThenBy(c => c.UniqueID, StringComparer.Ordinal);
}
