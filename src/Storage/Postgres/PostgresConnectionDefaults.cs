using System.Data.Common;

namespace Voting.Storage.Postgres;

/// <summary>
/// What every connection string an application hands to Npgsql gets unless it says otherwise: no GSS session
/// encryption. Npgsql 10 defaults to <c>GSS Encryption Mode=Prefer</c>, which calls MIT Kerberos' native library
/// (<c>libgssapi_krb5</c>) for every new physical connection; this system authenticates to PostgreSQL with passwords
/// and roles, never Kerberos, so that is only native code on the connection path — and concurrent
/// <c>gss_init_sec_context</c> calls, as a silo's first burst of connections makes them, are known to crash some krb5
/// builds with SIGSEGV (npgsql/npgsql#6596, dotnet/runtime#123782). A deployment that does use Kerberos says
/// <c>GSS Encryption Mode=Prefer</c> (or <c>Require</c>) in its connection strings.
/// </summary>
public static class PostgresConnectionDefaults
{
    private static readonly string[] GssEncryptionMode = ["GSS Encryption Mode", "GssEncryptionMode"];

    /// <summary><paramref name="connectionString"/> with the defaults added where it names no value of its own.</summary>
    public static string Apply(string connectionString)
    {
        var builder = new DbConnectionStringBuilder { ConnectionString = connectionString };
        if (!GssEncryptionMode.Any(builder.ContainsKey))
        {
            builder[GssEncryptionMode[0]] = "Disable";
        }

        return builder.ConnectionString;
    }
}
