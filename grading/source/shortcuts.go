package source

import (
	"fmt"
	"go/types"
	"slices"
	"strings"

	"golang.org/x/tools/go/packages"
	"golang.org/x/tools/go/ssa"
	"golang.org/x/tools/go/ssa/ssautil"
)

// Forbidden reports whether an exercise may not use fn, a function of
// package pkg: the library's own versions of the exercises, GoMLX's
// sigmoid and softmax, and GoMLX's packages of layers, activations, losses
// and metrics. mnistfc.Linear stays allowed: it is the assignment's
// nn.Linear.
func Forbidden(pkg, fn string) bool {
	switch {
	case pkg == modulePath+"/mnistfc":
		return slices.Contains([]string{"Sigmoid", "Softmax", "CrossEntropy", "Accuracy", "FullyConnected"}, fn)
	case pkg == modulePath+"/notebook":
		return strings.HasPrefix(fn, "Check")
	case strings.HasPrefix(pkg, "github.com/gomlx/"):
		for _, p := range []string{"/ml/layers", "/ml/nn", "/ml/train/loss", "/ml/train/metric", "/activation"} {
			if strings.Contains(pkg, p) {
				return true
			}
		}
		for _, n := range []string{"Sigmoid", "Logistic", "Softmax", "CrossEntropy", "Accuracy"} {
			if strings.Contains(fn, n) {
				return true
			}
		}
	}
	return false
}

// findShortcuts returns, for each exercise's function, the first
// forbidden function it can reach, and the path: through calls, function
// values, closures, method values, interface methods, generic instances
// and package variables holding functions.
func findShortcuts(pkg *packages.Package) (map[string]string, error) {
	if len(pkg.Errors) > 0 {
		return map[string]string{}, nil
	}
	// The dependencies come from export data, as types: only the
	// submission's own functions have bodies.
	imported := map[string]*types.Package{}
	var collect func(*types.Package)
	collect = func(p *types.Package) {
		for _, imp := range p.Imports() {
			if imported[imp.Path()] == nil {
				imported[imp.Path()] = imp
				collect(imp)
			}
		}
	}
	collect(pkg.Types)
	tc := &types.Config{Importer: importerFunc(func(path string) (*types.Package, error) {
		if p := imported[path]; p != nil {
			return p, nil
		}
		return nil, fmt.Errorf("package %s not loaded", path)
	})}
	spkg, _, err := ssautil.BuildPackage(tc, pkg.Fset, types.NewPackage(pkg.Types.Path(), pkg.Types.Name()), pkg.Syntax, ssa.InstantiateGenerics)
	if err != nil {
		return nil, fmt.Errorf("SSA of the submission: %w", err)
	}
	g := newGraph(spkg)
	// Each exercise answers for its own code: a path through another
	// exercise's function (forward calling sigmoid) is that one's.
	exercises := map[*ssa.Function]bool{}
	for _, e := range exerciseTypes {
		if fn := spkg.Func(e.Name); fn != nil {
			exercises[fn] = true
		}
	}
	found := map[string]string{}
	for _, e := range exerciseTypes {
		fn := spkg.Func(e.Name)
		if fn == nil {
			continue
		}
		if path := g.reach(fn, exercises); path != nil {
			found[e.Name] = fmt.Sprintf("%s reaches %s (%s) instead of computing it with graph operations", e.Name, path[len(path)-1], strings.Join(path, " → "))
		}
	}
	return found, nil
}

// refGraph is what each of the submission's functions refers to.
type refGraph struct {
	pkg     *ssa.Package
	stored  map[*ssa.Global][]*ssa.Function // functions reachable from what is stored in a global
	methods map[string][]*ssa.Function      // the submission's methods by name
}

func newGraph(pkg *ssa.Package) *refGraph {
	g := &refGraph{pkg: pkg, stored: map[*ssa.Global][]*ssa.Function{}, methods: map[string][]*ssa.Function{}}
	for _, fn := range g.functions() {
		if recv := fn.Signature.Recv(); recv != nil {
			g.methods[fn.Name()] = append(g.methods[fn.Name()], fn)
		}
		for _, b := range fn.Blocks {
			for _, instr := range b.Instrs {
				st, ok := instr.(*ssa.Store)
				if !ok {
					continue
				}
				if glob := rootGlobal(st.Addr); glob != nil {
					g.stored[glob] = append(g.stored[glob], connected(st.Val)...)
				}
			}
		}
	}
	return g
}

// functions returns the submission's functions, with their anonymous
// functions and generic instances.
func (g *refGraph) functions() []*ssa.Function {
	var out []*ssa.Function
	for fn := range ssautil.AllFunctions(g.pkg.Prog) {
		if fn.Pkg == g.pkg || (fn.Origin() != nil && fn.Origin().Pkg == g.pkg) {
			out = append(out, fn)
		}
	}
	return out
}

// reach returns the path from fn to the first forbidden function it
// reaches, as names, or nil.
func (g *refGraph) reach(start *ssa.Function, others map[*ssa.Function]bool) []string {
	parent := map[*ssa.Function]*ssa.Function{start: nil}
	queue := []*ssa.Function{start}
	path := func(fn *ssa.Function) []string {
		var names []string
		for f := fn; f != nil; f = parent[f] {
			names = append(names, name(f))
		}
		slices.Reverse(names)
		return names
	}
	for len(queue) > 0 {
		fn := queue[0]
		queue = queue[1:]
		if obj, ok := fn.Object().(*types.Func); ok && obj.Pkg() != nil && Forbidden(obj.Pkg().Path(), obj.Name()) {
			return path(fn)
		}
		if fn.Origin() != nil && fn.Origin() != fn {
			if o := fn.Origin(); o.Object() != nil && o.Object().Pkg() != nil && Forbidden(o.Object().Pkg().Path(), o.Name()) {
				return path(fn)
			}
		}
		if !g.own(fn) {
			continue // A library function: only its name counts.
		}
		for _, next := range g.refs(fn) {
			if _, seen := parent[next]; !seen && !others[next] {
				parent[next] = fn
				queue = append(queue, next)
			}
		}
	}
	return nil
}

// own reports whether fn is code of the submission (with wrappers that
// the SSA builder makes for its method values and bound methods).
func (g *refGraph) own(fn *ssa.Function) bool {
	if fn.Pkg == g.pkg || (fn.Origin() != nil && fn.Origin().Pkg == g.pkg) {
		return true
	}
	return fn.Synthetic != "" && fn.Pkg == nil
}

// refs returns the functions fn refers to.
func (g *refGraph) refs(fn *ssa.Function) []*ssa.Function {
	var out []*ssa.Function
	add := func(v ssa.Value) {
		switch v := v.(type) {
		case *ssa.Function:
			out = append(out, v)
		case *ssa.Global:
			out = append(out, g.stored[v]...)
		}
	}
	out = append(out, fn.AnonFuncs...)
	for _, b := range fn.Blocks {
		for _, instr := range b.Instrs {
			for _, op := range instr.Operands(nil) {
				if op != nil && *op != nil {
					add(*op)
				}
			}
			if c, ok := instr.(ssa.CallInstruction); ok {
				common := c.Common()
				if common.IsInvoke() {
					out = append(out, g.methods[common.Method.Name()]...)
				} else if callee := common.StaticCallee(); callee != nil {
					out = append(out, callee)
				}
			}
			if mi, ok := instr.(*ssa.MakeInterface); ok {
				// A value turned into an interface brings its methods.
				ms := g.pkg.Prog.MethodSets.MethodSet(mi.X.Type())
				for sel := range ms.Methods() {
					if m := g.pkg.Prog.MethodValue(sel); m != nil {
						out = append(out, m)
					}
				}
			}
		}
	}
	return out
}

// rootGlobal returns the global that addr points into, or nil.
func rootGlobal(addr ssa.Value) *ssa.Global {
	for {
		switch a := addr.(type) {
		case *ssa.Global:
			return a
		case *ssa.FieldAddr:
			addr = a.X
		case *ssa.IndexAddr:
			addr = a.X
		default:
			return nil
		}
	}
}

// connected returns the functions among the values connected to v in its
// function (its operands and their users, transitively): what a store of
// v into a global can hold, e.g. a map filled with functions.
func connected(v ssa.Value) []*ssa.Function {
	var out []*ssa.Function
	seen := map[ssa.Value]bool{}
	var visit func(v ssa.Value)
	visit = func(v ssa.Value) {
		if v == nil || seen[v] || len(seen) > 10000 {
			return
		}
		seen[v] = true
		switch v := v.(type) {
		case *ssa.Function:
			out = append(out, v)
			return
		case *ssa.Global, *ssa.Const:
			return
		}
		if instr, ok := v.(ssa.Instruction); ok {
			for _, op := range instr.Operands(nil) {
				if op != nil {
					visit(*op)
				}
			}
		}
		if refs := v.Referrers(); refs != nil {
			for _, r := range *refs {
				for _, op := range r.Operands(nil) {
					if op != nil {
						visit(*op)
					}
				}
			}
		}
	}
	visit(v)
	return out
}

// name is fn as a reader knows it: "mnistfc.Sigmoid", "helper", "func1 in sigmoid".
func name(fn *ssa.Function) string {
	if fn.Parent() != nil {
		return "a closure in " + name(fn.Parent())
	}
	if obj, ok := fn.Object().(*types.Func); ok && obj.Pkg() != nil {
		if sig, ok := obj.Type().(*types.Signature); ok && sig.Recv() != nil {
			return types.TypeString(sig.Recv().Type(), func(p *types.Package) string { return p.Name() }) + "." + obj.Name()
		}
		if obj.Pkg().Path() == "main" || obj.Pkg().Name() == "main" {
			return obj.Name()
		}
		return obj.Pkg().Name() + "." + obj.Name()
	}
	return fn.Name()
}

type importerFunc func(path string) (*types.Package, error)

func (f importerFunc) Import(path string) (*types.Package, error) { return f(path) }
