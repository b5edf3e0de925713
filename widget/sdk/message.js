// @ts-check
/** The SDK's message and unread objects, as TalkJS's classic SDK shapes them. */

/**
 * @param {Record<string, any>} message the server's message (docs/protocol.md)
 * @param {Record<string, any> | null} sender the sender's public data, when known
 * @param {string} myId
 */
export function sdkMessage(message, sender, myId) {
  return {
    ...message,
    conversation: { id: message.conversationId },
    isByMe: message.senderId === myId,
    sender,
    body: message.text,
    timestamp: message.createdAt,
    read: message.senderId === myId ? message.readBy.length > 0 : undefined,
  };
}

/** `[{conversation, lastMessage, unreadMessageCount}]` from the server's `unreads:list`. */
export function sdkUnreads(unreads, myId) {
  return unreads.map((entry) => ({
    conversation: entry.conversation,
    lastMessage: entry.lastMessage ? sdkMessage(entry.lastMessage, null, myId) : null,
    unreadMessageCount: entry.unreadMessageCount,
  }));
}
