// The same three users' Inbox and Popup (demoUsers and myId come from group-chat.js), and the
// unread count the classic SDK's session.unreads reports.
Talk.ready.then(function () {
  const me = new Talk.User(demoUsers[myId]);
  const session = new Talk.Session({ appId: 'demo', me: me });
  // The same conversation as group-chat.js, set up the same way: whichever page script runs
  // first creates it, and the other's changes are no-ops.
  const conversation = session.getOrCreateConversation('new_group_chat');
  conversation.setParticipant(me);
  conversation.setParticipant(new Talk.User(demoUsers[otherId1]));
  conversation.setParticipant(new Talk.User(demoUsers[otherId2]));
  conversation.setAttributes({ photoUrl: location.origin + '/demo/avatars/group.svg', subject: 'Beautiful Steel Preserve' });

  const inbox = session.createInbox({ selected: conversation });
  inbox.mount(document.getElementById('inbox-container'));

  const popup = session.createPopup(conversation, { keepOpen: true });
  popup.mount({ show: false });

  session.unreads.onChange(function (unreads) {
    const total = unreads.reduce(function (sum, u) { return sum + u.unreadMessageCount; }, 0);
    document.getElementById('unread-count').textContent = total === 0 ? 'no unread messages' : total + ' unread';
  });
});
