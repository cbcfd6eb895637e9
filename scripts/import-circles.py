"""Import circles between the source files of a crate (issue 13, DECISIONS #59).

A file depends on another when it names a path into it (`crate::a::b`, `super::x`,
`self::y`, brace groups included; comments and test modules are left out). Prints each group
of files that depend on each other in a circle and exits 1 when there is one that is not
allowed below.

    python3 scripts/import-circles.py app/src crate [-v]
"""
import os,re,sys
root=sys.argv[1]  # e.g. app/src
crate_prefix=sys.argv[2] if len(sys.argv)>2 else 'crate'
files={}
for d,_,fs in os.walk(root):
    for f in fs:
        if f.endswith('.rs'):
            p=os.path.join(d,f)
            rel=os.path.relpath(p,root)[:-3]
            parts=rel.split('/')
            if parts[-1] in ('mod','lib','main'): parts=parts[:-1]
            files[tuple(parts)]=p
def resolve(mod, path):
    # longest prefix of path that is a file module
    for k in range(len(path),0,-1):
        if tuple(path[:k]) in files: return tuple(path[:k])
    return None
edges={m:set() for m in files}
pathre=re.compile(r'\b(crate|super|self)((?:::[A-Za-z_][A-Za-z_0-9]*)+)')
for m,p in files.items():
    text=open(p).read()
    # drop test modules roughly: everything after '#[cfg(test)]\nmod tests'
    i=text.find('#[cfg(test)]\nmod tests')
    if i>=0: text=text[:i]
    text=re.sub(r'//[^\n]*','',text)
    is_modfile=os.path.basename(p) in ('mod.rs','lib.rs','main.rs')
    for mm in pathre.finditer(text):
        head=mm.group(1); rest=mm.group(2).split('::')[1:]
        if head=='crate': base=[]
        elif head=='self': base=list(m)
        else:
            base=list(m)
            # super from a file module: parent of the module
            n=0
            segs=[head]+rest
            while segs and segs[0]=='super':
                base=base[:-1]; segs=segs[1:]
            rest=segs
        # also expand brace groups: crate::a::{b, c}
        tgt=resolve(m, base+rest)
        if tgt and tgt!=m and not (len(tgt)<len(m) and m[:len(tgt)]==tgt and is_modfile is False and False):
            edges[m].add(tgt)
    for mm in re.finditer(r'\b(crate|super)((?:::[A-Za-z_][A-Za-z_0-9]*)*)::\{([^}]*)\}',text):
        head=mm.group(1); pre=[s for s in mm.group(2).split('::') if s]
        if head=='crate': base=[]
        else:
            base=list(m)[:-1]
            while pre and pre[0]=='super': base=base[:-1]; pre=pre[1:]
        for item in mm.group(3).split(','):
            item=item.strip().split(' ')[0]
            if not item or item=='self': continue
            tgt=resolve(m, base+pre+item.split('::'))
            if tgt and tgt!=m: edges[m].add(tgt)
# a parent module file (mod.rs) declaring children is not a dependency; drop edges parent->child
# made only by `pub use` re-exports? keep them: they are real.
# Tarjan
index={};low={};st=[];on=set();res=[];c=[0]
sys.setrecursionlimit(10000)
def sc(v):
    index[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
    for w in edges[v]:
        if w not in index: sc(w); low[v]=min(low[v],low[w])
        elif w in on: low[v]=min(low[v],index[w])
    if low[v]==index[v]:
        comp=[]
        while True:
            w=st.pop();on.discard(w);comp.append(w)
            if w==v:break
        if len(comp)>1: res.append(comp)
for v in edges:
    if v not in index: sc(v)
# Allowed on purpose (DECISIONS #59): sea-orm relations are declared from both ends.
ALLOWED = [{"auth/entity/user_account", "patients/entity"}]
bad = 0
for comp in res:
    names = {'/'.join(x) or '<root>' for x in comp}
    allowed = names in ALLOWED
    bad += 0 if allowed else 1
    print(("allowed: " if allowed else "CIRCLE: ") + ' '.join(sorted(names)))
if '-v' in sys.argv:
    for comp in res:
        cs=set(comp)
        print('--')
        for v in comp:
            print('  ','/'.join(v),'->',', '.join('/'.join(w) for w in edges[v] if w in cs))
if bad:
    print(f"{bad} import circle(s) in {root}: break them (see DECISIONS #59)")
sys.exit(1 if bad else 0)
