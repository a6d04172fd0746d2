using Voting.LoadGen;
using Voting.LoadGen.Auditing;

namespace Voting.EndToEnd.Tests;

/// <summary>What every fault test asks of the load tool's audit: drained, nothing lost, nothing counted twice, latest choice.</summary>
internal static class AuditAssert
{
    public static AuditReport Clean(LoadReport report, int moreAcknowledgedThan)
    {
        var audit = Assert.IsType<AuditReport>(report.Audit);
        Assert.True(audit.Drained, "the pipeline did not drain");
        Assert.Equal(0, audit.Lost);
        Assert.Equal(0, audit.DoubleCounted);
        Assert.Equal(0, audit.WrongChoice);
        Assert.True(report.Passed);
        Assert.True(audit.Acknowledged > moreAcknowledgedThan, $"only {audit.Acknowledged} voters acknowledged");
        return audit;
    }
}
