using System.Runtime.Versioning;
using Voting.Cli;

// setsid, /proc, POSIX signals, Debian packages: ./voting runs the system on Linux.
[assembly: SupportedOSPlatform("linux")]

return await VotingCommandLine.RunAsync(args);
