using System.Security.Claims;
using GracefulHosting;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.BearerToken;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace IdentityApp;

#region warmup-hook
/// <summary>
/// Runs in each new generation before it reports ready, in a scope of its own: opens the database,
/// builds the EF Core model, compiles the notes query and Identity's user lookup, and loads the
/// data-protection keys that bearer tokens are read with.
/// </summary>
public sealed partial class DatabaseWarmup(
    AppDbContext db,
    UserManager<IdentityUser> users,
    IOptionsMonitor<BearerTokenOptions> bearer,
    NotesCounters counters,
    ILogger<DatabaseWarmup> logger) : IGracefulRestartWarmup
{
    public async Task WarmUpAsync(CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        await Notes.ForUserAsync(db, userId: "", counters, cancellationToken);
        await users.FindByEmailAsync("warmup@localhost");

        var protector = bearer.Get(IdentityConstants.BearerScheme).BearerTokenProtector;
        var ticket = new AuthenticationTicket(new ClaimsPrincipal(new ClaimsIdentity()), IdentityConstants.BearerScheme);
        protector.Unprotect(protector.Protect(ticket));

        LogWarmedUp(logger, Environment.ProcessId);
    }

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "Database and Identity warmed up in pid {Pid}")]
    private static partial void LogWarmedUp(ILogger logger, int pid);
}
#endregion
