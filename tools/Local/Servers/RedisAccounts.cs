using System.Security.Cryptography;
using System.Text;

namespace Voting.Local.Servers;

/// <summary>A Redis ACL user and its password.</summary>
public sealed record RedisCredential(string User, string Password);

/// <summary>
/// The users a front end's Redis knows, written to its ACL file. The front end may only append to its vote stream;
/// the drainers may read, acknowledge, claim and trim it (and append to its dead-letter stream, nothing else); the
/// operator (the tests, <c>./voting</c>) may do anything. The <c>default</c> user is off, so a connection without
/// credentials can run no command at all (see <see cref="DefaultUser"/>). deploy/swarm/redis/entrypoint.sh writes the
/// same rules in the stack.
/// </summary>
public sealed record RedisAccounts(RedisCredential Frontend, RedisCredential Drainer, RedisCredential Operator)
{
    public const string FrontendUser = "voting-frontend";
    public const string DrainerUser = "voting-drainer";
    public const string OperatorUser = "voting-operator";

    /// <summary>
    /// What StackExchange.Redis sends on every connection of ours: naming it (<c>CLIENT SETNAME</c>), reading the
    /// server's version and role (<c>INFO</c>, which the front end's readiness check also reads for
    /// <c>used_memory</c>), and its heartbeat and connection checks (<c>PING</c>, <c>ECHO</c>). (<c>CLIENT SETINFO</c>
    /// it sends too, but Redis 7.0, Debian's, has no such command.)
    /// </summary>
    public const string ConnectionCommands = "+ping +echo +info +client|setname";

    /// <summary>The front end's: append to the vote stream.</summary>
    public const string FrontendCommands = "+xadd";

    /// <summary>
    /// The drainers' (src/Grains/Draining): the consumer group's commands, what the backlog is read with, and the two
    /// scripts (trimming acknowledged entries, removing idle consumers; StackExchange.Redis loads them with
    /// <c>SCRIPT LOAD</c> and runs them with <c>EVALSHA</c>), whose commands Redis checks one by one too.
    /// </summary>
    public const string DrainerCommands =
        "+xgroup|create +xgroup|delconsumer +xreadgroup +xautoclaim +xack +xinfo|groups +xinfo|consumers +xpending +xrange +xlen +xtrim +exists +eval +evalsha +script|load";

    /// <summary>
    /// The <c>default</c> user: off — no connection can sign in as it, and one that does not sign in can run nothing —
    /// and yet allowed every command. Redis 7.0 (Debian's) replays the transactions of its append-only file as the
    /// default user and checks each queued command against that user's rules at <c>EXEC</c>: with none allowed, it
    /// drops every transaction of the file on a restart (logging "== CRITICAL == ... NOPERM"). A drainer's
    /// <c>XREADGROUP</c> of several entries is kept as one (its <c>XCLAIM</c>s), and so are the scripts' effects: the
    /// restarted server forgot which entries were delivered and not yet acknowledged, while a later one-entry read kept
    /// the group's last delivered id past them — those votes were never delivered again. Being off, the user grants
    /// nothing to any client.
    /// </summary>
    public const string DefaultUser = "user default off resetpass resetchannels ~* &* +@all";

    /// <summary>The vote stream's key, a glob (<c>Frontend:StreamKey</c>, <c>votes</c> unless configured otherwise).</summary>
    public string StreamKey { get; init; } = "votes";

    /// <summary>Accounts with new random passwords.</summary>
    public static RedisAccounts Generate() => new(
        new RedisCredential(FrontendUser, Secret.Generate()),
        new RedisCredential(DrainerUser, Secret.Generate()),
        new RedisCredential(OperatorUser, Secret.Generate()));

    /// <summary>
    /// The accounts whose passwords are kept in <paramref name="directory"/> (one file each, readable by this user only),
    /// made there first if they are not.
    /// </summary>
    public static RedisAccounts ReadOrCreate(string directory) => new(
        new RedisCredential(FrontendUser, Secret.ReadOrCreate(Path.Combine(directory, "redis-frontend.password"))),
        new RedisCredential(DrainerUser, Secret.ReadOrCreate(Path.Combine(directory, "redis-drainer.password"))),
        new RedisCredential(OperatorUser, Secret.ReadOrCreate(Path.Combine(directory, "redis-operator.password"))));

    /// <summary>
    /// The ACL file: passwords as SHA-256 hashes (<c>#...</c>), so the file holds none in the clear. The drainers'
    /// <c>XADD</c> is a selector of its own, on the dead-letter stream's key only.
    /// </summary>
    public string AclFile() =>
        $"""
        {DefaultUser}
        user {Frontend.User} on #{Hash(Frontend.Password)} resetchannels resetkeys ~{StreamKey} nocommands {ConnectionCommands} {FrontendCommands}
        user {Drainer.User} on #{Hash(Drainer.Password)} resetchannels resetkeys ~{StreamKey} nocommands {ConnectionCommands} {DrainerCommands} (~{StreamKey}:dead-letters +xadd)
        user {Operator.User} on #{Hash(Operator.Password)} ~* &* +@all

        """;

    private static string Hash(string password) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(password)));
}
