using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace IdentityApp;

public sealed class AppDbContext(DbContextOptions<AppDbContext> options) : IdentityDbContext<IdentityUser>(options)
{
    public DbSet<Note> Notes => Set<Note>();
}

public sealed class Note
{
    public int Id { get; set; }

    public required string OwnerId { get; set; }

    public required string Text { get; set; }

    public DateTime Created { get; set; }
}

public sealed record NewNote(string Text);

public sealed record NoteView(int Id, string Text, DateTime Created);

/// <summary>
/// What <c>GET /notes</c> answers: the notes, and for the tests the pid that served them, how many
/// authenticated GETs this process served before, and how many times it had run the notes query.
/// </summary>
public sealed record NotesPage(int Pid, int ServedBefore, int QueriesBefore, IReadOnlyList<NoteView> Notes);

/// <summary>The notes query, shared by the endpoint and the warm-up so that both compile the same one.</summary>
public static class Notes
{
    public static async Task<IReadOnlyList<NoteView>> ForUserAsync(AppDbContext db, string userId, NotesCounters counters, CancellationToken cancellationToken)
    {
        var notes = await db.Notes
            .Where(n => n.OwnerId == userId)
            .OrderByDescending(n => n.Created)
            .Take(20)
            .Select(n => new NoteView(n.Id, n.Text, n.Created))
            .ToListAsync(cancellationToken);
        counters.CountQuery();
        return notes;
    }
}

/// <summary>Per-process counts the tests read to see whether a request found the app warm.</summary>
public sealed class NotesCounters
{
    private int _requests;
    private int _queries;

    public int Queries => Volatile.Read(ref _queries);

    /// <summary>Counts an authenticated request and returns how many came before it.</summary>
    public int CountRequest() => Interlocked.Increment(ref _requests) - 1;

    public void CountQuery() => Interlocked.Increment(ref _queries);
}
