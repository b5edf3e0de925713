// @ts-check
/** Entry point of the Inbox frame: the feed beside the chosen conversation (one or the other when narrow). */

import { ParentBridge } from "./bridge.js";
import { FeedView } from "./feed.js";
import { el } from "./format.js";
import { readConfig, startChat } from "./frame.js";

const FEED_REFRESH_MS = 150;
const config = readConfig();
const bridge = new ParentBridge(config.parentOrigin);
const root = /** @type {HTMLElement} */ (document.getElementById("parley-chat"));
root.classList.add("inbox");
const chatRoot = el("section", { class: "inbox__chat chat", "aria-label": "Conversation" });
const feed = new FeedView((conversation) => choose(conversation));
root.replaceChildren(feed.element, chatRoot);
const { view, controller } = startChat(bridge, chatRoot, "inbox", { onBack: () => showChat(false) });
let refreshTimer = 0;

bridge.on("init", async (data) => {
  const options = data.options || {};
  feed.showHeader(options.showFeedHeader !== false);
  feed.setFilter(options.feedFilter || null);
  view.header.showBack(options.showMobileBackButton !== false);
  const result = await controller.init({ ...data, selection: null });
  if (result.error) return result;
  for (const event of ["message:new", "conversation:read", "participant:added", "participant:removed", "conversation:deleted"]) {
    controller.connection?.on(event, () => scheduleRefresh());
  }
  await refresh();
  if (data.selection && data.selection.conversation) return select(data.selection);
  view.showEmpty();
  return {};
});
bridge.on("select", (selection) => select(selection));
bridge.on("feedFilter", ({ filter }) => feed.setFilter(filter));
bridge.on("notice", (error) => view.showError(error, true)); // the open conversation stays
bridge.send("ready", {});

async function select(selection) {
  const result = await controller.select(selection);
  const id = selection.conversation ? selection.conversation.conversationId : null;
  feed.select(result.error ? null : id);
  showChat(!result.error && !!id);
  return result;
}

/** A click in the feed: the page may cancel it (onSelectConversation's preventDefault). */
async function choose(conversation) {
  const decision = await bridge.request("selectConversation", { conversation }, 5000, { cancel: false });
  if (decision.cancel) return;
  const result = await select({ conversation: { conversationId: conversation.id }, sync: false, asGuest: false });
  if (!result.error) bridge.send("conversationSelected", { conversation });
}

function showChat(show) {
  root.classList.toggle("inbox--chat-open", show);
}

function scheduleRefresh() {
  clearTimeout(refreshTimer);
  refreshTimer = window.setTimeout(refresh, FEED_REFRESH_MS);
}

async function refresh() {
  try {
    feed.setFeed(await controller.request("feed:list", {}), controller.myId);
  } catch (error) {
    view.showError(error, true);
  }
}
