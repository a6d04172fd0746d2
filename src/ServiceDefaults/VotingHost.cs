using Microsoft.AspNetCore.Builder;

namespace Voting.ServiceDefaults;

/// <summary>How every Voting.Orleans application's <c>Program</c> builds and runs its host.</summary>
public static class VotingHost
{
    /// <summary>
    /// Builds the application with <paramref name="build"/> and runs it until it is stopped. A host that cannot be
    /// built or started (a setting it refuses, a dependency it cannot reach) or that stops on an error has logged why,
    /// or says so here: it exits with code 1 and one line naming the reason, rather than with the runtime's abort for an
    /// unhandled exception (a core dump attempt, exit 134 or 139), which reads as a crash to Swarm and to operators.
    /// </summary>
    /// <returns>The process's exit code: 0 after a clean stop, 1 after a failure.</returns>
    public static int Run(Func<WebApplication> build)
    {
        try
        {
            using var app = build();
            app.Run();
            return 0;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            Console.Error.WriteLine($"{AppDomain.CurrentDomain.FriendlyName} stopped: {e.GetType().Name}: {e.Message}");
            return 1;
        }
    }
}
