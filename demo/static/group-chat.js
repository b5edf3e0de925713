// The group chat from the TalkJS documentation, unchanged except for the appId, the avatar URLs
// (served by Parley, so the demo works offline) and which of the three users this tab chats as.
const demoUsers = {
  123456: { id: '123456', name: 'Alice', email: 'alice@example.com', photoUrl: location.origin + '/demo/avatars/alice.svg', welcomeMessage: 'Hi!' },
  654321: { id: '654321', name: 'Sebastian', email: 'sebastian@example.com', photoUrl: location.origin + '/demo/avatars/sebastian.svg', welcomeMessage: 'Hey, how can I help?' },
  456789: { id: '456789', name: 'Steve', email: 'steve@example.com', photoUrl: location.origin + '/demo/avatars/steve.svg', welcomeMessage: 'Hello!' },
};
const myId = new URLSearchParams(location.search).get('user') in demoUsers ? new URLSearchParams(location.search).get('user') : '123456';
const [otherId1, otherId2] = Object.keys(demoUsers).filter((id) => id !== myId);

Talk.ready.then(function () {
  const me = new Talk.User(demoUsers[myId]);
  const session = new Talk.Session({
    appId: 'demo',
    me: me,
  });

  const other1 = new Talk.User(demoUsers[otherId1]);
  const other2 = new Talk.User(demoUsers[otherId2]);

  const conversation = session.getOrCreateConversation('new_group_chat');
  conversation.setParticipant(me);
  conversation.setParticipant(other1);
  conversation.setParticipant(other2);
  conversation.setAttributes({
    photoUrl: location.origin + '/demo/avatars/group.svg',
    subject: 'Beautiful Steel Preserve',
  });

  const chatbox = session.createChatbox();
  chatbox.select(conversation);
  chatbox.mount(document.getElementById('talkjs-container'));
});
