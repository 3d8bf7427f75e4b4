notdict: 5
nolist:
  test.nop: foo
twofun:
  test.nop:
    - succeed_with_changes
trailing:
  test.nop:
nofun:
  test:
    - name: x
badreq:
  test.nop:
    - require: foo
emptyreq:
  test.nop:
    - require:
