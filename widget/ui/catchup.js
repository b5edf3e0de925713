// @ts-check
/** Catching up after a reconnect: join again after the newest message held, then page through what was
 * missed until it meets the join's latest page (docs/protocol.md, "Reconnecting and catch-up"). */

const MAX_CATCH_UP_PAGES = 10; // 1,000 missed messages; beyond that the history starts again at the latest page

/**
 * @param {(event: string, data: any) => Promise<any>} request the connection's acknowledged request
 * @param {import("./state.js").ConversationState} state the conversation as the frame holds it
 * @param {{asGuest: boolean, view: string}} join how the conversation was joined
 */
export async function catchUp(request, state, join) {
  const conversationId = state.id;
  const joined = await request("conversation:join", { conversationId, afterMessageId: state.lastMessageId || undefined, ...join });
  if (joined.resync || !state.lastMessageId) return { ...joined, missed: joined.missed || [], complete: true };
  const missed = [...joined.missed];
  const latest = new Set(joined.messages.map((m) => m.id));
  let complete = joined.missedComplete || missed.some((m) => latest.has(m.id));
  for (let pages = 0; !complete && missed.length && pages < MAX_CATCH_UP_PAGES; pages++) {
    const page = await request("messages:list", { conversationId, afterMessageId: missed[missed.length - 1].id, limit: 100 });
    missed.push(...page.messages);
    state.addUsers(page.users);
    complete = !page.hasNewer || page.messages.some((m) => latest.has(m.id));
  }
  return { ...joined, missed, complete };
}
