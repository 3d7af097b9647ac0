namespace GracefulHosting;

/// <summary>
/// Marks an endpoint whose responses stay open for long, such as a long poll: when a generation
/// drains, the library ends such a response early instead of waiting for it, so the client comes back
/// to the new generation. WebSockets and <c>text/event-stream</c> responses to requests that accept
/// <c>text/event-stream</c> need no mark.
/// </summary>
/// <remarks>
/// Ending a response fires its <c>HttpContext.RequestAborted</c> without aborting the connection; a
/// cancellation the app lets escape ends the response normally (an empty 200 if nothing was written
/// yet). The app may answer otherwise by handling the cancellation itself. Responses still running
/// <see cref="GracefulRestartOptions.LongLivedGracePeriod"/> later are aborted. Put the attribute on a
/// minimal API handler, a controller or an action, or call <c>WithLongLived()</c> on the endpoint.
/// Outside a child of the graceful restart master the mark has no effect.
/// </remarks>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method | AttributeTargets.Delegate, AllowMultiple = false, Inherited = true)]
public sealed class LongLivedAttribute : Attribute
{
}
