// Package demo is drawbridge's built-in demonstration: a small online-shop
// API (products, favourites, orders — an API a mobile app and a web app
// share), a gateway config in front of it, and a tour of commands that
// show what each layer lets through and why.
//
// The tour is data: the demo prints it and a test runs every command it
// prints and checks the promised answer, so the tour cannot drift from
// what the gateway does.
package demo

import (
	"encoding/json"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Product is an item of the catalogue.
type Product struct {
	ID    int    `json:"id"`
	Name  string `json:"name"`
	Price int    `json:"price_cents"`
}

// Order is a placed order.
type Order struct {
	ID        int       `json:"id"`
	User      string    `json:"user"`
	ProductID int       `json:"product_id"`
	Quantity  int       `json:"quantity"`
	Placed    time.Time `json:"placed"`
}

// Shop is the demo upstream: an in-memory shop API. It trusts the
// gateway's headers (X-User-Sub, set by later layers) and knows nothing of
// security itself, like many real upstreams.
type Shop struct {
	// Now is the clock. If nil, time.Now.
	Now func() time.Time

	mu         sync.Mutex
	favourites map[string]map[int]bool
	orders     []Order
}

var products = []Product{
	{1, "Drawbridge mug", 1200},
	{2, "Portcullis poster", 1800},
	{3, "Moat rubber duck", 600},
	{4, "Battlement bookends", 3400},
}

// Handler returns the shop's routes.
func (s *Shop) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/products", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]any{"products": products})
	})
	mux.HandleFunc("GET /api/products/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, _ := strconv.Atoi(r.PathValue("id"))
		for _, p := range products {
			if p.ID == id {
				writeJSON(w, http.StatusOK, p)
				return
			}
		}
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such product"})
	})
	mux.HandleFunc("GET /api/favourites", s.listFavourites)
	mux.HandleFunc("PUT /api/favourites/{id}", s.addFavourite)
	mux.HandleFunc("GET /api/orders", s.listOrders)
	mux.HandleFunc("POST /api/orders", s.placeOrder)
	mux.HandleFunc("GET /api/whoami", func(w http.ResponseWriter, r *http.Request) {
		// Shows what the upstream is told about the caller.
		writeJSON(w, http.StatusOK, map[string]string{
			"x_forwarded_for":   r.Header.Get("X-Forwarded-For"),
			"x_real_ip":         r.Header.Get("X-Real-Ip"),
			"x_forwarded_proto": r.Header.Get("X-Forwarded-Proto"),
			"x_request_id":      r.Header.Get("X-Request-Id"),
			"x_user_sub":        r.Header.Get("X-User-Sub"),
		})
	})
	mux.HandleFunc("GET /api/admin/stats", func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		defer s.mu.Unlock()
		writeJSON(w, http.StatusOK, map[string]int{"orders": len(s.orders), "products": len(products)})
	})
	return mux
}

func (s *Shop) user(r *http.Request) string {
	if u := r.Header.Get("X-User-Sub"); u != "" {
		return u
	}
	return "anonymous"
}

func (s *Shop) listFavourites(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	ids := []int{}
	for id := range s.favourites[s.user(r)] {
		ids = append(ids, id)
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": s.user(r), "favourites": ids})
}

func (s *Shop) addFavourite(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.Atoi(r.PathValue("id"))
	if err != nil || id < 1 || id > len(products) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no such product"})
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.favourites == nil {
		s.favourites = map[string]map[int]bool{}
	}
	u := s.user(r)
	if s.favourites[u] == nil {
		s.favourites[u] = map[int]bool{}
	}
	s.favourites[u][id] = true
	writeJSON(w, http.StatusOK, map[string]any{"user": u, "added": id})
}

func (s *Shop) listOrders(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u := s.user(r)
	mine := []Order{}
	for _, o := range s.orders {
		if o.User == u {
			mine = append(mine, o)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"user": u, "orders": mine})
}

func (s *Shop) placeOrder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ProductID int `json:"product_id"`
		Quantity  int `json:"quantity"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 4096)).Decode(&req); err != nil || req.ProductID < 1 || req.ProductID > len(products) || req.Quantity < 1 || req.Quantity > 100 {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "want {\"product_id\": 1-4, \"quantity\": 1-100}"})
		return
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	o := Order{ID: len(s.orders) + 1, User: s.user(r), ProductID: req.ProductID, Quantity: req.Quantity, Placed: now().UTC()}
	s.orders = append(s.orders, o)
	writeJSON(w, http.StatusCreated, o)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
